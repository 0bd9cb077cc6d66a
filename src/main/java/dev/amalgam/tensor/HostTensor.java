package dev.amalgam.tensor;

import java.nio.ByteBuffer;

/** A named tensor in host memory (little-endian bytes of {@code dtype}), e.g. a merge result kept for generation. */
public record HostTensor(String name, DType dtype, long[] shape, ByteBuffer data) {}
