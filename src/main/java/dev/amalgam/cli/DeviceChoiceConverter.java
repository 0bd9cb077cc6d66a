package dev.amalgam.cli;

import dev.amalgam.device.DeviceChoice;
import picocli.CommandLine;

/** {@code --device auto|cuda|cpu}, case-insensitive, with a message that lists the choices. */
final class DeviceChoiceConverter implements CommandLine.ITypeConverter<DeviceChoice> {
  @Override
  public DeviceChoice convert(String value) {
    try {
      return DeviceChoice.valueOf(value.trim().toUpperCase());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.TypeConversionException("`" + value + "` is not a device; use auto, cuda or cpu");
    }
  }
}
