package dev.amalgam.device;

/** The user's {@code --device}: take the GPU when usable, insist on it, or stay on the CPU. */
public enum DeviceChoice {
  AUTO, CUDA, CPU;
}
