package dev.amalgam.cuda;

import static org.bytedeco.cuda.global.cudart.CU_EVENT_DEFAULT;
import static org.bytedeco.cuda.global.cudart.CU_EVENT_DISABLE_TIMING;
import static org.bytedeco.cuda.global.cudart.cuEventCreate;
import static org.bytedeco.cuda.global.cudart.cuEventDestroy;
import static org.bytedeco.cuda.global.cudart.cuEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cuEventRecord;
import static org.bytedeco.cuda.global.cudart.cuEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cuStreamWaitEvent;

import org.bytedeco.cuda.cudart.CUevent_st;

/** A point in a stream to wait for, or, when created with timing, to measure from. */
public final class CudaEvent implements AutoCloseable {
  private final CUevent_st event;
  private boolean destroyed;

  private CudaEvent(CUevent_st event) {
    this.event = event;
  }

  /** Events without timing are cheaper to record and wait for. */
  public static CudaEvent create(boolean timing) {
    CUevent_st event = new CUevent_st();
    CudaException.check(cuEventCreate(event, timing ? CU_EVENT_DEFAULT : CU_EVENT_DISABLE_TIMING), "cuEventCreate");
    return new CudaEvent(event);
  }

  public void record(CudaStream stream) {
    CudaException.check(cuEventRecord(event, stream.handle()), "cuEventRecord");
  }

  /** Blocks this thread until the work before the last {@link #record} has finished. */
  /** Makes {@code stream}'s later work wait, on the device, until the work recorded so far has finished. */
  public void awaitOn(CudaStream stream) {
    CudaException.check(cuStreamWaitEvent(stream.handle(), event, 0), "cuStreamWaitEvent");
  }

  public void synchronize() {
    CudaException.check(cuEventSynchronize(event), "cuEventSynchronize");
  }

  /** Milliseconds between two recorded timing events. */
  public float millisecondsSince(CudaEvent start) {
    float[] ms = new float[1];
    CudaException.check(cuEventElapsedTime(ms, start.event, event), "cuEventElapsedTime");
    return ms[0];
  }

  @Override
  public synchronized void close() {
    if (!destroyed) {
      destroyed = true;
      CudaException.check(cuEventDestroy(event), "cuEventDestroy");
    }
  }
}
