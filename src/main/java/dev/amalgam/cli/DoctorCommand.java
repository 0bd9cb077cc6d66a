package dev.amalgam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.amalgam.cuda.CudaDeviceInfo;
import dev.amalgam.device.EnvironmentReport;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = {
      "Show what this machine can run: Java, CUDA driver, GPUs, CUDA libraries, NVRTC, libtorch.",
      "Each CUDA library is shown with the folder it was found in. A machine without a GPU is a normal",
      "answer (exit 0), with the reason the GPU backend is unavailable."
    })
final class DoctorCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print the report as one JSON object.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    EnvironmentReport report = EnvironmentReport.collect();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report));
    } else {
      printText(report, out);
    }
    out.flush();
    return ExitCodes.OK;
  }

  private static void printText(EnvironmentReport report, PrintWriter out) {
    out.printf("java         %s (%s), %s %s%n", report.javaVersion(), report.javaVendor(), report.os(), report.arch());
    EnvironmentReport.Cuda cuda = report.cuda();
    if (cuda.available()) {
      out.printf("cuda         available, driver supports CUDA %s%n", cuda.driverVersion());
    } else {
      out.printf("cuda         unavailable: %s%n", cuda.reason());
    }
    for (CudaDeviceInfo gpu : cuda.gpus()) {
      out.printf("gpu %-8d %s, compute %s, %.1f GiB, %d SMs%n", gpu.ordinal(), gpu.name(), gpu.computeCapability(),
          gpu.totalMemoryBytes() / (double) (1L << 30), gpu.multiprocessors());
    }
    out.printf("nvrtc        %s%n", cuda.nvrtcVersion() == null ? "not loaded" : cuda.nvrtcVersion());
    for (EnvironmentReport.Library library : report.libraries()) {
      out.printf("%-18s %s%n", library.name(), library.path() == null ? "not found" : library.path());
    }
    EnvironmentReport.CpuBackend cpu = report.cpuBackend();
    out.printf("cpu backend  %s%n", cpu.available() ? "libtorch " + cpu.libtorchVersion() : "unavailable: " + cpu.reason());
  }
}
