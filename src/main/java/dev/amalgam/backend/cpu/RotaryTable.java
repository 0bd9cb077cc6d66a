package dev.amalgam.backend.cpu;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The cosines and signed sines of one forward pass's RoPE angles, {@code [T, 1, headDim]} each. A forward
 * pass rotates q and k of every layer at the same positions, so they are computed once from the positions
 * tensor (on the device, no host round trip) and reused until the positions are written again.
 *
 * <p>With both halves of a head holding the same angles and the sine's first half negated, rotate-half is
 * {@code x' = x * cos + roll(x, headDim / 2) * sin}, elementwise: for {@code i < h} that is
 * {@code x[i] * cos - x[i + h] * sin} and {@code x[i + h] * cos + x[i] * sin}, the same float32 products and
 * sums as HF's {@code q * cos + rotate_half(q) * sin}.
 */
final class RotaryTable implements AutoCloseable {
  private final CpuTensor positions;
  private final long positionsVersion;
  private final CpuTensor invFreq;
  private final int headDim;
  private final Tensor cos;
  private final Tensor sin;

  RotaryTable(CpuTensor positions, CpuTensor invFreq, int headDim) {
    this.positions = positions;
    this.positionsVersion = positions.version();
    this.invFreq = invFreq;
    this.headDim = headDim;
    int half = headDim / 2;
    long rows = positions.shape()[0];
    try (PointerScope scope = new PointerScope()) {
      Tensor pos = positions.torch().to(ScalarType.Float).view(rows, 1);
      Tensor freq = invFreq.torch().view(1, half);
      Tensor angle = torch.empty(rows, headDim);
      torch.mul_out(angle.narrow(1, 0, half), pos, freq);
      torch.mul_out(angle.narrow(1, half, half), pos, freq);
      Tensor c = angle.cos();
      Tensor s = angle.sin();
      s.narrow(1, 0, half).neg_();
      cos = CpuBackend.detached(c.view(rows, 1, headDim));
      sin = CpuBackend.detached(s.view(rows, 1, headDim));
    }
  }

  /** Whether this table was computed from these tensors, with the positions unchanged since. */
  boolean isFor(CpuTensor positions, CpuTensor invFreq, int headDim) {
    return this.positions == positions && positionsVersion == positions.version() && this.invFreq == invFreq
        && this.headDim == headDim;
  }

  /** Rotates {@code x} ({@code [T, heads * headDim]}) in place. */
  void apply(Tensor x) {
    try (PointerScope scope = new PointerScope()) {
      Tensor heads = x.view(cos.size(0), -1, headDim);
      Tensor rolled = heads.roll(new long[] {headDim / 2}, 2);
      rolled.mul_(sin);
      heads.mul_(cos);
      heads.add_(rolled);
    }
  }

  @Override
  public void close() {
    cos.close();
    sin.close();
  }
}
