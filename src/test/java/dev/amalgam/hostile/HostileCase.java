package dev.amalgam.hostile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * One hostile case: it prepares its inputs inside its own work folder and returns the command line to run there
 * (the arguments after {@code amalgam}). Outputs go to {@code work/out} (or {@code work/out.jsonl}), the only
 * paths a run may create; everything else in the folder must be left as it was.
 */
interface HostileCase {
  /** What kind of hostility this is, for the report ("safetensors header", "config.json", ...). */
  String kind();

  /** Sets up {@code work} and returns the arguments; {@code random} decides the mutation. */
  List<String> prepare(Path work, Random random) throws IOException;
}
