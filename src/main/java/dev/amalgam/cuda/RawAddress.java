package dev.amalgam.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A JavaCPP {@link Pointer} for a bare address, such as an offset into pinned memory or a CUdeviceptr handed
 * to an API that takes {@code void*}. It owns nothing: whoever allocated the memory frees it.
 */
public final class RawAddress extends Pointer {
  public RawAddress(long address) {
    this.address = address;
  }
}
