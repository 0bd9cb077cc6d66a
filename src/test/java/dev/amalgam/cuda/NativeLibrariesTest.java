package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibrariesTest {
  @TempDir Path dir;

  @Test
  void ldLibraryPathComesFirstThenTheSystemFolders() {
    List<Path> path = NativeLibraries.defaultSearchPath("/opt/a::/opt/b");
    assertEquals(List.of(Path.of("/opt/a"), Path.of("/opt/b")), path.subList(0, 2));
    assertTrue(path.contains(Path.of("/usr/lib")));
    assertTrue(path.contains(Path.of("/usr/lib/x86_64-linux-gnu")));
    assertTrue(path.indexOf(Path.of("/usr/lib")) > 1);
  }

  @Test
  void findsTheFirstFolderHoldingALibrary() throws IOException {
    Path first = Files.createDirectories(dir.resolve("first"));
    Path second = Files.createDirectories(dir.resolve("second"));
    Files.createFile(second.resolve(NativeLibraries.NVRTC));
    Files.createFile(first.resolve(NativeLibraries.NVRTC));
    Files.createFile(second.resolve(NativeLibraries.RUNTIME));
    NativeLibraries libraries = new NativeLibraries(List.of(first, second));
    assertEquals(Optional.of(first.resolve(NativeLibraries.NVRTC)), libraries.find(NativeLibraries.NVRTC));
    assertEquals(Optional.of(second.resolve(NativeLibraries.RUNTIME)), libraries.find(NativeLibraries.RUNTIME));
    assertEquals(Optional.empty(), libraries.find(NativeLibraries.DRIVER));
    assertEquals(NativeLibraries.CUDA_LIBRARIES, List.copyOf(libraries.findCudaLibraries().keySet()));
  }
}
