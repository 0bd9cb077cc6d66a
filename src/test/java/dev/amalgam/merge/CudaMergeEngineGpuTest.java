package dev.amalgam.merge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.amalgam.UserError;
import dev.amalgam.cuda.DeviceTensor;
import dev.amalgam.io.TensorInfo;
import dev.amalgam.tensor.DType;
import dev.amalgam.tensor.FloatBits;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The whole CUDA merge path against the oracle: 0.3·a + 0.7·b, normalized, bf16, bit for bit. */
class CudaMergeEngineGpuTest extends TinyMergeGpuTest {
  /** The default chunking (whole tiny tensors) and a tiny one that splits every tensor over all slots. */
  @ParameterizedTest(name = "chunk of {0} elements")
  @ValueSource(longs = {CudaMergeEngine.DEFAULT_CHUNK_ELEMENTS, 1024, 96})
  void mergesTheFixturesBitForBit(long chunkElements) {
    List<PlannedTensor> plan = ExampleModels.linearPlan(a, b, DType.BF16);
    Map<String, byte[]> written = new ConcurrentHashMap<>();
    AtomicInteger done = new AtomicInteger();
    try (CudaMergeEngine engine = new CudaMergeEngine(context, compiler, chunkElements)) {
      engine.run(plan, TinyMergeGpuTest::map, collectInto(written),
          tensor -> done.incrementAndGet());
    }
    assertEquals(plan.size(), written.size());
    assertEquals(plan.size(), done.get());
    for (PlannedTensor tensor : plan) {
      assertEquals(oracle(tensor.name()), ByteBuffer.wrap(written.get(tensor.name())), tensor.name());
    }
  }

  @Test
  void keepsTheMergeOnTheDeviceBitForBit() {
    List<PlannedTensor> plan = ExampleModels.linearPlan(a, b, DType.BF16);
    Map<String, DeviceTensor> resident;
    try (CudaMergeEngine engine = new CudaMergeEngine(context, compiler, 4096)) {
      resident = engine.mergeToDevice(plan, TinyMergeGpuTest::map, MergeEngine.MergeProgress.NONE);
    }
    try {
      assertEquals(plan.stream().map(PlannedTensor::name).toList(), new ArrayList<>(resident.keySet()));
      for (PlannedTensor tensor : plan) {
        DeviceTensor onDevice = resident.get(tensor.name());
        assertEquals(DType.BF16, onDevice.dtype());
        assertEquals(0, onDevice.address() % 256);
        assertEquals(oracle(tensor.name()), onDevice.download(), tensor.name());
      }
    } finally {
      resident.values().forEach(DeviceTensor::close);
    }
  }

  /** a served as float32 (its bf16 values widened, exactly) merges to the same bf16 result. */
  @Test
  void mixedInputTypesGiveTheSameMerge() {
    Map<String, ByteBuffer> widened = new HashMap<>();
    List<PlannedTensor> plan = new ArrayList<>();
    for (PlannedTensor tensor : ExampleModels.linearPlan(a, b, DType.BF16)) {
      TensorInfo bf16 = tensor.inputs().get(0);
      TensorInfo f32 = new TensorInfo(bf16.name() + "#f32", DType.F32, bf16.shape(), bf16.file(), -1,
          bf16.byteSize() * 2);
      widened.put(f32.name(), widen(a.map(bf16)));
      plan.add(new PlannedTensor(tensor.name(), tensor.shape(), List.of(f32, tensor.inputs().get(1)),
          tensor.weights(), true, DType.BF16));
    }
    Map<String, byte[]> written = new ConcurrentHashMap<>();
    try (CudaMergeEngine engine = new CudaMergeEngine(context, compiler, 2048)) {
      engine.run(plan, info -> widened.containsKey(info.name()) ? widened.get(info.name()).duplicate() : map(info),
          collectInto(written), MergeEngine.MergeProgress.NONE);
    }
    for (PlannedTensor tensor : plan) {
      assertEquals(oracle(tensor.name()), ByteBuffer.wrap(written.get(tensor.name())), tensor.name());
    }
  }

  /** A failing output stops the merge with the output's own exception, and the engine stays usable. */
  @Test
  void anOutputFailureSurfacesAndTheEngineRecovers() {
    List<PlannedTensor> plan = ExampleModels.linearPlan(a, b, DType.BF16);
    UserError failure = new UserError("disk full");
    AtomicInteger calls = new AtomicInteger();
    try (CudaMergeEngine engine = new CudaMergeEngine(context, compiler, 1024)) {
      UserError thrown = assertThrows(UserError.class, () -> engine.run(plan, TinyMergeGpuTest::map, (tensor, offset, bytes) -> {
        if (calls.incrementAndGet() == 3) {
          throw failure;
        }
      }, MergeEngine.MergeProgress.NONE));
      assertSame(failure, thrown);
      Map<String, byte[]> written = new ConcurrentHashMap<>();
      engine.run(plan, TinyMergeGpuTest::map, collectInto(written),
          MergeEngine.MergeProgress.NONE);
      assertEquals(plan.size(), written.size());
    }
  }


  private static ByteBuffer oracle(String name) {
    return merged.map(merged.tensor(name).orElseThrow());
  }

  /** Assembles each tensor from its chunks; a chunk written twice or out of bounds fails the copy. */
  private static MergeEngine.MergeOutput collectInto(Map<String, byte[]> written) {
    return (tensor, offset, bytes) -> bytes.duplicate().get(
        written.computeIfAbsent(tensor.name(), n -> new byte[Math.toIntExact(tensor.outBytes())]),
        Math.toIntExact(offset), bytes.remaining());
  }

  private static ByteBuffer widen(ByteBuffer bf16) {
    int count = bf16.capacity() / 2;
    ByteBuffer f32 = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      f32.putFloat(4 * i, FloatBits.bf16ToFloat(bf16.getShort(2 * i)));
    }
    return f32;
  }
}
