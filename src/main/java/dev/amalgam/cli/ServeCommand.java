package dev.amalgam.cli;

import dev.amalgam.UserError;
import dev.amalgam.device.Device;
import dev.amalgam.generate.GenerationSettings;
import dev.amalgam.generate.LanguageModel;
import dev.amalgam.generate.ModelSource;
import dev.amalgam.serve.OpenAiServer;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    description = {
      "Serve a model folder, or a merge config merged in memory, over an OpenAI-compatible HTTP API: GET",
      "/v1/models, POST /v1/completions (echo with logprobs and max_tokens 0 scores a prompt, as evaluation",
      "harnesses ask), POST /v1/chat/completions (the model's chat template), `stream: true` as server-sent",
      "events, GET /health and GET /metrics (Prometheus). Concurrent requests share decode steps: a request joins",
      "the running batch when a slot frees. Beyond --max-queue waiting requests, 429. Ctrl-C or SIGTERM stops",
      "accepting, lets running requests finish for --grace seconds, and exits 0."
    },
    footer = {
      "",
      "Examples:",
      "  amalgam serve examples/linear.yml",
      "  curl -s localhost:8000/v1/completions -H 'Content-Type: application/json' \\",
      "       -d '{\"prompt\": \"The smith kept\", \"max_tokens\": 16, \"temperature\": 0}'",
      "  amalgam serve /models/merged --host 0.0.0.0 --api-key \"$KEY\" --max-batch 32"
    })
final class ServeCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "MODEL", description = "A model folder, or a merge config to merge first.")
  Path model;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "8000", description = "Port (default: ${DEFAULT-VALUE}; 0 picks one).")
  int port;

  @Option(names = "--api-key", paramLabel = "KEY",
      description = "Require `Authorization: Bearer KEY` (needed to bind beyond this machine, or say --open).")
  String apiKey;

  @Option(names = "--open", description = "Bind beyond this machine without an API key, knowingly.")
  boolean open;

  @Option(names = "--max-batch", defaultValue = "8", paramLabel = "N",
      description = "Sequences decoded together (default: ${DEFAULT-VALUE}).")
  int maxBatch;

  @Option(names = "--max-queue", defaultValue = "64", paramLabel = "N",
      description = "Requests waiting for a slot before 429 (default: ${DEFAULT-VALUE}).")
  int maxQueue;

  @Option(names = "--max-context", paramLabel = "N",
      description = "Prompt plus completion, in tokens (default: the model's limit, at most 4096).")
  Integer maxContext;

  @Option(names = "--max-tokens-cap", defaultValue = "2048", paramLabel = "N",
      description = "The most tokens one choice may ask for (default: ${DEFAULT-VALUE}).")
  int maxTokensCap;

  @Option(names = "--grace", defaultValue = "10", paramLabel = "SECONDS",
      description = "On Ctrl-C or SIGTERM, how long running requests may finish (default: ${DEFAULT-VALUE}).")
  int grace;

  @Mixin
  GenerationDeviceOptions device;

  @Override
  public Integer call() throws Exception {
    if (maxBatch < 1 || maxBatch > 256 || maxQueue < 1 || maxTokensCap < 1 || grace < 0 || port < 0 || port > 65535) {
      throw new UserError("--max-batch must be 1 to 256, --max-queue and --max-tokens-cap at least 1, --grace at "
          + "least 0, and --port 0 to 65535");
    }
    boolean local = isLoopback(host);
    if (!local && apiKey == null && !open) {
      throw new UserError("--host " + host + " serves beyond this machine: give --api-key KEY, or --open to serve "
          + "without one");
    }
    PrintWriter err = spec.commandLine().getErr();
    try (Device opened = device.open(err::println);
        LanguageModel loaded = ModelSource.open(opened, model, null, err::println)) {
      int capacity = maxContext != null ? maxContext
          : Math.min(loaded.contextLimit(), GenerationSettings.DEFAULT_CONTEXT);
      if (capacity < 2 || capacity > loaded.contextLimit()) {
        throw new UserError("--max-context must be from 2 to the model's " + loaded.contextLimit());
      }
      String name = model.getFileName().toString().replaceFirst("\\.ya?ml$", "");
      OpenAiServer server = OpenAiServer.start(loaded, new OpenAiServer.Options(host, port, maxBatch, capacity,
          maxQueue, maxTokensCap, apiKey, name));
      CountDownLatch stop = new CountDownLatch(1);
      Signal.handle(new Signal("INT"), s -> stop.countDown());
      Signal.handle(new Signal("TERM"), s -> stop.countDown());
      if (!local && apiKey == null) {
        err.println("WARNING: serving on " + host + " with no API key: anyone who reaches this port can use it");
      }
      err.println("serving " + name + " on http://" + host + ":" + server.port() + "/v1 (" + loaded.device()
          + ", " + maxBatch + " sequences at once, context " + capacity + "); Ctrl-C stops");
      stop.await();
      err.println("stopping: running requests have " + grace + " s to finish");
      server.stop(grace * 1000L);
    }
    return ExitCodes.OK;
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new UserError("--host " + host + " is not an address of this machine");
    }
  }
}
