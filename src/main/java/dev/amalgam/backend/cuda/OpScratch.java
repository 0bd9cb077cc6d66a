package dev.amalgam.backend.cuda;

import dev.amalgam.cuda.CudaStream;
import dev.amalgam.cuda.DeviceScratch;
/**
 * The device temporaries of the backend's ops: bf16 copies of the inputs of cuBLAS linear layers and the
 * partial results of split attention. The backend has one set for ops issued one by one, and each recorded
 * step has its own, because a captured graph keeps the addresses it was captured with: the shared set may
 * grow (and move) afterwards, a step's own set never does.
 */
final class OpScratch implements AutoCloseable {
  final DeviceScratch matmulInput;
  final DeviceScratch attentionPartials;

  OpScratch(CudaStream stream) {
    matmulInput = new DeviceScratch(stream);
    attentionPartials = new DeviceScratch(stream);
  }

  @Override
  public void close() {
    matmulInput.close();
    attentionPartials.close();
  }
}
