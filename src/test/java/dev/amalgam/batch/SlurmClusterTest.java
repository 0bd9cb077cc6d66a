package dev.amalgam.batch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.amalgam.cli.CliRun;
import dev.amalgam.io.RecursiveDelete;
import dev.amalgam.testing.Bundle;
import dev.amalgam.testing.TestModels;
import dev.amalgam.testing.Toolchain;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example batch on a real Slurm cluster (two emulated nodes on this host, brought up by scripts/slurm-up.sh,
 * which .ci/run runs): the same outputs as the batch run locally, bit for bit; a failing task reported with its
 * exit code and log; a rerun that submits only what is missing; cancel; and a submission from the cluster bundle
 * on a PATH without Java, whose tasks run the bundle's own launcher.
 */
@Tag("slurm")
class SlurmClusterTest {
  private static final long TIMEOUT_MS = 180_000;

  @TempDir Path dir;

  @BeforeAll
  static void aClusterIsUp() {
    boolean up;
    try {
      up = new ProcessBuilder("sinfo", "-h").start().waitFor() == 0;
    } catch (Exception e) {
      up = false;
    }
    Toolchain.require(up, "a Slurm cluster (SLURM_CI_NODES=2 bash scripts/slurm-up.sh)");
  }

  @Test
  void theBatchOnSlurmEqualsTheBatchRunHere() throws Exception {
    Path local = dir.resolve("local");
    Path slurm = dir.resolve("slurm");
    assertEquals(0, CliRun.of("batch", "examples/batch.yml", "--out-dir", local.toString(), "--device", "cpu")
        .exitCode());
    JsonNode jobs = submit(slurm, "cpu");
    assertEquals(4, jobs.size(), jobs.toString());
    for (JsonNode state : waitForJobs(slurm)) {
      assertEquals("done", state.get("state").asText(), state.toString());
    }
    for (String merge : List.of("ab", "ba", "middle")) {
      TestModels.assertSameTensors(local.resolve(merge), slurm.resolve(merge));
    }
    assertEquals(metrics(local.resolve("toward-prose")), metrics(slurm.resolve("toward-prose")));
    // The sweep's two shares ran on the two nodes.
    String shares = new ProcessBuilder("scontrol", "show", "job", "-o", jobs.get(2).get("job_id").asText()).start()
        .inputReader().lines().map(l -> l.replaceAll(".*\\bBatchHost=(\\S+).*", "$1")).sorted().toList().toString();
    assertEquals("[n1, n2]", shares);
    assertEquals("every merge is up to date: nothing submitted", CliRun.of("batch", "examples/batch.yml",
        "--out-dir", slurm.toString(), "--slurm").out().strip());
  }

  @Test
  void aFailedTaskIsReportedAndARerunSubmitsOnlyWhatIsMissing() throws Exception {
    Path out = dir.resolve("out");
    // No GPU on the nodes: each stage-0 task fails with the merge's own message; the stage after it is cancelled.
    submit(out, "cuda");
    List<JsonNode> failed = waitForJobs(out);
    assertEquals("failed", failed.get(0).get("state").asText(), failed.toString());
    assertTrue(failed.get(0).get("detail").asText().contains("exit code 2"), failed.toString());
    assertTrue(failed.get(0).get("detail").asText().contains("no GPU backend"), failed.toString());
    assertEquals("cancelled", failed.get(2).get("state").asText(), failed.toString());
    assertEquals("cancelled", failed.get(3).get("state").asText(), failed.toString());

    submit(out, "cpu");
    waitForJobs(out);
    RecursiveDelete.quietly(out.resolve("middle"));
    JsonNode rerun = submit(out, "cpu");
    assertEquals(1, rerun.size(), rerun.toString());
    assertEquals("[\"middle\"]", rerun.get(0).get("merges").toString());
    for (JsonNode state : waitForJobs(out)) {
      assertEquals("done", state.get("state").asText(), state.toString());
    }
  }

  /** The jobs held back an hour by the batch file's own `slurm:` options, then cancelled. */
  @Test
  void cancelStopsWhatIsQueued() throws Exception {
    Path out = dir.resolve("out");
    String examples = Path.of("examples").toAbsolutePath().toString();
    Path file = Files.writeString(dir.resolve("batch.yml"), "slurm: {sbatch_args: [--begin=now+1hour]}\n---\n"
        + Files.readString(Path.of("examples/batch.yml")).replace("model: qwen2-tiny-", "model: " + examples
            + "/qwen2-tiny-").replace("file: eval/", "file: " + examples + "/eval/"));
    CliRun run = CliRun.of("batch", file.toString(), "--out-dir", out.toString(), "--slurm", "--device", "cpu");
    assertEquals(0, run.exitCode(), run.err());
    assertEquals("pending", status(file, out).get(0).get("state").asText());
    CliRun cancel = CliRun.of("batch", "cancel", file.toString(), "--out-dir", out.toString());
    assertEquals(0, cancel.exitCode(), cancel.err());
    assertTrue(cancel.out().startsWith("cancelled jobs "), cancel.out());
    for (JsonNode state : waitForJobs(file, out)) {
      assertEquals("cancelled", state.get("state").asText(), state.toString());
    }
    assertFalse(Files.exists(out.resolve("ab")), "nothing merged");
  }

  /** Submitted from the bundle on a PATH without Java: the tasks run the bundle's own launcher, and finish. */
  @Test
  void theBundleSubmitsItselfToNodesWithoutJava() throws Exception {
    Path launcher = Bundle.unpack("", dir);
    String path = Bundle.pathOf(dir, "dirname", "readlink", "sbatch", "scontrol", "scancel");
    Path out = dir.resolve("out");
    Bundle.Result run = Bundle.run(dir, List.of(launcher.toString(), "batch",
        Path.of("examples/batch.yml").toAbsolutePath().toString(), "--out-dir", out.toString(), "--slurm",
        "--device", "cpu"), path);
    assertEquals(0, run.exitCode(), run.text());
    for (JsonNode state : waitForJobs(out)) {
      assertEquals("done", state.get("state").asText(), state.toString());
    }
    assertTrue(Files.readString(out.resolve(".amalgam-batch/job-0-stage-0.sbatch")).contains(launcher.getParent()
        .getParent().resolve("runtime/bin/java").toString()), "the tasks run the bundle's java");
  }

  private static JsonNode submit(Path out, String device) throws Exception {
    CliRun run = CliRun.of("batch", "examples/batch.yml", "--out-dir", out.toString(), "--slurm", "--device", device,
        "--json");
    assertEquals(0, run.exitCode(), run.err());
    return new ObjectMapper().readTree(run.out());
  }

  /** The example batch's merges' states once none is pending or running. */
  private static List<JsonNode> waitForJobs(Path out) throws Exception {
    return waitForJobs(Path.of("examples/batch.yml"), out);
  }

  private static List<JsonNode> waitForJobs(Path file, Path out) throws Exception {
    long deadline = System.currentTimeMillis() + TIMEOUT_MS;
    while (true) {
      List<JsonNode> states = status(file, out);
      boolean active = states.stream().anyMatch(s -> List.of("pending", "running", "configuring", "completing")
          .contains(s.get("state").asText()));
      if (!active) {
        return states;
      }
      assertTrue(System.currentTimeMillis() < deadline, "jobs still active: " + states);
      Thread.sleep(300);
    }
  }

  private static List<JsonNode> status(Path file, Path out) throws Exception {
    CliRun run = CliRun.of("batch", "status", file.toString(), "--out-dir", out.toString(), "--json");
    assertEquals(0, run.exitCode(), run.err());
    List<JsonNode> states = new ArrayList<>();
    new ObjectMapper().readTree(run.out()).forEach(states::add);
    return states;
  }

  /** A sweep's metrics by point, timings left out (they are the only thing a run may change). */
  private static Map<String, String> metrics(Path sweep) throws Exception {
    Map<String, String> byPoint = new TreeMap<>();
    try (var files = Files.list(sweep)) {
      for (Path file : files.filter(f -> f.getFileName().toString().endsWith(".jsonl")).toList()) {
        for (String line : Files.readAllLines(file)) {
          JsonNode row = new ObjectMapper().readTree(line);
          ((ObjectNode) row.get("metrics")).remove(List.of(
              "perplexity.seconds", "exact_match.seconds"));
          byPoint.put(row.get("point").toString(), row.get("metrics").toString());
        }
      }
    }
    assertEquals(4, byPoint.size(), byPoint.toString());
    return byPoint;
  }
}
