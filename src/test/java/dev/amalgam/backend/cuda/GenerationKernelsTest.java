package dev.amalgam.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.cuda.KernelDType;
import dev.amalgam.cuda.KernelParam;
import dev.amalgam.cuda.KernelSignature;
import dev.amalgam.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Java half of the kernel contract against the .cu files, without a GPU: a kernel launched with the wrong
 * parameter list or block size would read garbage rather than fail.
 */
class GenerationKernelsTest {
  private static final Pattern KERNEL =
      Pattern.compile("extern \"C\" __global__ void (\\w+)\\(([^)]*)\\)", Pattern.DOTALL);

  /** Every extern "C" kernel of a generation .cu file, with its parameters parsed from the source. */
  private static Map<String, List<KernelParam>> parse(String file) throws IOException {
    String source = Files.readString(Path.of("cuda-kernels", file));
    Map<String, List<KernelParam>> kernels = new LinkedHashMap<>();
    Matcher m = KERNEL.matcher(source);
    while (m.find()) {
      List<KernelParam> params = new ArrayList<>();
      for (String param : m.group(2).split(",")) {
        params.add(kind(param.trim().replaceAll("\\s+", " ")));
      }
      kernels.put(m.group(1), params);
    }
    return kernels;
  }

  private static KernelParam kind(String declaration) {
    if (declaration.contains("*")) {
      return KernelParam.POINTER;
    }
    String type = declaration.substring(0, declaration.lastIndexOf(' ')).replace("const ", "");
    return switch (type) {
      case "int" -> KernelParam.INT;
      case "float" -> KernelParam.FLOAT;
      case "unsigned long long" -> KernelParam.LONG;
      default -> throw new AssertionError("no Java counterpart for the kernel parameter `" + declaration + "`");
    };
  }

  @Test
  void signaturesMatchTheKernelSources() throws IOException {
    List<String> files = GenerationKernels.SIGNATURES.stream().map(KernelSignature::file).distinct().toList();
    Map<String, List<KernelParam>> declared = new LinkedHashMap<>();
    for (KernelSignature s : GenerationKernels.SIGNATURES) {
      declared.put(s.file() + ":" + s.name(), s.params());
    }
    Map<String, List<KernelParam>> parsed = new LinkedHashMap<>();
    for (String file : files) {
      parse(file).forEach((name, params) -> parsed.put(file + ":" + name, params));
    }
    assertEquals(parsed, declared);
  }

  @Test
  void everyGenerationSourceIsLoaded() throws IOException {
    List<String> loaded = GenerationKernels.SIGNATURES.stream().map(KernelSignature::file).distinct().sorted().toList();
    try (Stream<Path> files = Files.list(Path.of("cuda-kernels"))) {
      List<String> sources = files.map(f -> f.getFileName().toString())
          .filter(f -> f.endsWith(".cu") && !f.equals("merge.cu")).sorted().collect(Collectors.toList());
      assertEquals(sources, loaded);
    }
  }

  @Test
  void launchConstantsMatchTheDefines() throws IOException {
    assertEquals(NormKernels.THREADS, define("norm.cu", "NORM_THREADS"));
    assertEquals(AttentionKernels.WARPS, define("attention.cu", "ATTENTION_WARPS"));
    assertEquals(AttentionKernels.MAX_HEAD_DIM, define("attention.cu", "MAX_HEAD_DIM"));
    assertEquals(AttentionKernels.PREFILL_ROWS, define("attention.cu", "PREFILL_ROWS"));
    assertEquals(SampleKernels.THREADS, define("sample.cu", "SAMPLE_THREADS"));
    assertEquals(GemvKernels.WARPS, define("gemv.cu", "GEMV_WARPS"));
    assertEquals(GemvKernels.MAX_ROWS, define("gemv.cu", "GEMV_MAX_ROWS"));
    assertEquals(KernelDType.code(DType.F32), define("elementwise.cu", "AMALGAM_F32"));
    assertEquals(KernelDType.code(DType.F16), define("elementwise.cu", "AMALGAM_F16"));
    assertEquals(KernelDType.code(DType.BF16), define("elementwise.cu", "AMALGAM_BF16"));
  }

  @Test
  void onlyTheSamplerGivesUpFusedMultiplyAdd() {
    assertTrue(GenerationKernels.optionsFor("sample.cu").contains("--fmad=false"));
    assertFalse(GenerationKernels.optionsFor("attention.cu").contains("--fmad=false"));
  }

  private static int define(String file, String name) throws IOException {
    Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(Files.readString(Path.of("cuda-kernels", file)));
    assertTrue(m.find(), name + " in " + file);
    return Integer.parseInt(m.group(1));
  }
}
