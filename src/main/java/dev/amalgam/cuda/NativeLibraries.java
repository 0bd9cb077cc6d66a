package dev.amalgam.cuda;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the CUDA shared libraries the JavaCPP presets link against, the way the dynamic loader would look
 * for them: {@code LD_LIBRARY_PATH} first, then the usual toolkit and system folders. Only used to explain
 * what is missing; the loader itself decides what actually loads.
 */
public final class NativeLibraries {
  public static final String DRIVER = "libcuda.so.1";
  public static final String RUNTIME = "libcudart.so.13";
  public static final String NVRTC = "libnvrtc.so.13";

  /** Every library a GPU merge or generation needs, in the order a reader should check them. */
  public static final List<String> CUDA_LIBRARIES =
      List.of(DRIVER, RUNTIME, NVRTC, "libcublas.so.13", "libcublasLt.so.13");

  private final List<Path> searchPath;

  public NativeLibraries(List<Path> searchPath) {
    this.searchPath = List.copyOf(searchPath);
  }

  /** The search path of this process: LD_LIBRARY_PATH, then CUDA toolkit folders, then system folders. */
  public static NativeLibraries fromEnvironment() {
    return new NativeLibraries(defaultSearchPath(System.getenv("LD_LIBRARY_PATH")));
  }

  static List<Path> defaultSearchPath(String ldLibraryPath) {
    LinkedHashSet<Path> dirs = new LinkedHashSet<>();
    if (ldLibraryPath != null) {
      for (String entry : ldLibraryPath.split(":")) {
        if (!entry.isBlank()) {
          dirs.add(Path.of(entry));
        }
      }
    }
    for (Path toolkit : cudaToolkits(Path.of("/usr/local"))) {
      dirs.add(toolkit.resolve("targets/x86_64-linux/lib"));
      dirs.add(toolkit.resolve("lib64"));
      dirs.add(toolkit.resolve("lib"));
    }
    for (String system : List.of("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib/x86_64-linux-gnu")) {
      dirs.add(Path.of(system));
    }
    return new ArrayList<>(dirs);
  }

  /** {@code /usr/local/cuda}, {@code /usr/local/cuda-13.0}, ... sorted so the result is stable. */
  private static List<Path> cudaToolkits(Path usrLocal) {
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(usrLocal, "cuda*")) {
      entries.forEach(found::add);
    } catch (IOException | SecurityException e) {
      return List.of();
    }
    found.sort(null);
    return found;
  }

  public List<Path> searchPath() {
    return searchPath;
  }

  /** The first folder on the search path holding {@code fileName}. */
  public Optional<Path> find(String fileName) {
    for (Path dir : searchPath) {
      Path candidate = dir.resolve(fileName);
      if (Files.exists(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** Each of {@link #CUDA_LIBRARIES} with where it was found, or empty. */
  public Map<String, Optional<Path>> findCudaLibraries() {
    Map<String, Optional<Path>> result = new LinkedHashMap<>();
    for (String name : CUDA_LIBRARIES) {
      result.put(name, find(name));
    }
    return result;
  }
}
