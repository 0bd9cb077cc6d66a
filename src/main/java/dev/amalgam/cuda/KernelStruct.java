package dev.amalgam.cuda;

/**
 * The value of a struct parameter: its native bytes, and where in them device pointers sit. The GPU needs only
 * the bytes; the CPU emulation in the tests relocates the pointers into its own buffers.
 */
public record KernelStruct(byte[] bytes, int[] pointerOffsets) {}
