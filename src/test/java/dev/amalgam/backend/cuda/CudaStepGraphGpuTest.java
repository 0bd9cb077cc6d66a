package dev.amalgam.backend.cuda;

import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.POISON;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.bf16;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.random;
import static dev.amalgam.backend.cuda.CudaBackendOpsGpuTest.weight;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.backend.StepGraph;
import dev.amalgam.backend.Tensor;
import dev.amalgam.tensor.DType;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link CudaBackend#record}: a captured step replays with the inputs written before each run, gives the bits
 * the same ops give launched one by one, keeps working after the backend's shared temporaries moved, and a
 * capture that fails leaves the stream usable.
 */
class CudaStepGraphGpuTest extends GpuBackendTest {
  private static final int VOCAB = 40;
  private static final int HIDDEN = 64;
  private static final int OUT = 48;
  /** 2 rows go through gemv_bf16; 12 through the bf16 conversion, cuBLAS and the bias kernel. */
  @ParameterizedTest(name = "{0} rows")
  @ValueSource(ints = {2, 12})
  void aRecordedStepReplaysWithEachRunsInputs(int rows) {
    Random random = new Random(17 + rows);
    float[] table = bf16(random(random, VOCAB * HIDDEN, 1f));
    float[] norm = bf16(random(random, HIDDEN, 1f));
    float[] w = bf16(random(random, OUT * HIDDEN, 0.2f));
    float[] b = bf16(random(random, OUT, 0.5f));
    try (Tensor embed = backend.upload(weight("embed", DType.BF16, table, VOCAB, HIDDEN));
        Tensor normWeight = backend.upload(weight("norm", DType.BF16, norm, HIDDEN));
        Tensor linearWeight = backend.upload(weight("w", DType.BF16, w, OUT, HIDDEN));
        Tensor bias = backend.upload(weight("b", DType.BF16, b, OUT));
        Tensor ids = backend.allocateInts(rows);
        Tensor x = backend.allocate(rows, HIDDEN);
        Tensor normed = backend.allocate(rows, HIDDEN);
        Tensor out = backend.allocate(rows, OUT)) {
      Runnable ops = () -> {
        backend.embedding(embed, ids, x);
        backend.rmsNorm(x, normWeight, 1e-6f, normed);
        backend.linear(normed, linearWeight, bias, out);
      };
      backend.writeInts(ids, randomIds(random, rows));
      try (StepGraph step = backend.record(ops)) {
        for (int run = 0; run < 3; run++) {
          if (run == 2) {
            growSharedTemporaries();
          }
          int[] tokens = randomIds(random, rows);
          backend.writeInts(ids, tokens);
          backend.fill(out, POISON);
          ops.run();
          float[] oneByOne = backend.download(out);
          backend.fill(out, POISON);
          step.run();
          assertArrayEquals(oneByOne, backend.download(out), "run " + run);
        }
      }
    }
  }

  /** An exception or an Error inside the capture: either way the capture ends and the stream works on. */
  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"exception", "error"})
  void aFailedCaptureLeavesTheStreamUsable(String kind) {
    try (Tensor a = backend.uploadFloats(new float[] {1, 2, 3, 4}, 2, 2); Tensor sum = backend.allocate(2, 2)) {
      AtomicInteger runs = new AtomicInteger();
      Throwable thrown = kind.equals("error") ? new AssertionError("fails while captured")
          : new IllegalStateException("fails while captured");
      Runnable failingOnSecondRun = () -> {
        backend.add(a, a, sum);
        if (runs.incrementAndGet() == 2) {
          if (thrown instanceof Error e) {
            throw e;
          }
          throw (RuntimeException) thrown;
        }
      };
      assertSame(thrown, assertThrows(Throwable.class, () -> backend.record(failingOnSecondRun)));
      backend.fill(sum, POISON);
      backend.add(a, a, sum);
      assertArrayEquals(new float[] {2, 4, 6, 8}, backend.download(sum));
    }
  }

  /** A linear of many rows makes the backend's own bf16 input scratch grow, freeing the one it had. */
  private static void growSharedTemporaries() {
    int rows = 4096;
    try (Tensor big = backend.uploadFloats(new float[rows * HIDDEN], rows, HIDDEN);
        Tensor weightTensor = backend.upload(weight("g", DType.BF16, new float[OUT * HIDDEN], OUT, HIDDEN));
        Tensor result = backend.allocate(rows, OUT)) {
      backend.linear(big, weightTensor, null, result);
      backend.download(result);
    }
  }

  private static int[] randomIds(Random random, int rows) {
    int[] ids = new int[rows];
    for (int i = 0; i < rows; i++) {
      ids[i] = random.nextInt(VOCAB);
    }
    return ids;
  }
}
