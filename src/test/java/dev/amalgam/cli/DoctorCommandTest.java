package dev.amalgam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DoctorCommandTest {

  private record Result(int exitCode, String out) {}

  private static Result doctor(String... args) {
    CommandLine cli = Main.commandLine();
    StringWriter out = new StringWriter();
    cli.setOut(new PrintWriter(out));
    String[] all = new String[args.length + 1];
    all[0] = "doctor";
    System.arraycopy(args, 0, all, 1, args.length);
    return new Result(cli.execute(all), out.toString());
  }

  @Test
  void jsonReportHasEveryFieldAndAMissingGpuIsANormalAnswer() throws Exception {
    Result result = doctor("--json");
    assertEquals(0, result.exitCode());
    JsonNode report = new ObjectMapper().readTree(result.out());
    assertEquals(System.getProperty("java.version"), report.path("javaVersion").asText());
    JsonNode cuda = report.path("cuda");
    assertTrue(cuda.path("available").isBoolean());
    if (cuda.path("available").asBoolean()) {
      assertTrue(cuda.path("gpus").size() > 0);
      assertTrue(cuda.path("driverVersion").asText().matches("\\d+\\.\\d+"));
    } else {
      assertTrue(cuda.path("reason").asText().length() > 10, cuda.toString());
    }
    assertEquals(5, report.path("libraries").size());
    assertEquals("libcuda.so.1", report.path("libraries").get(0).path("name").asText());
    assertTrue(report.path("cpuBackend").has("available"));
  }

  @Test
  void textReportShowsEachSection() {
    Result result = doctor();
    assertEquals(0, result.exitCode());
    for (String section : new String[] {"java ", "cuda ", "nvrtc ", "libcudart.so.13", "libcublasLt.so.13", "cpu backend"}) {
      assertTrue(result.out().contains(section), "no `" + section + "` in:\n" + result.out());
    }
  }
}
