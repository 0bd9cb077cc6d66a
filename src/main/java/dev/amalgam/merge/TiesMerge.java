package dev.amalgam.merge;

import dev.amalgam.UserError;
import java.util.List;
import java.util.Set;

/**
 * mergekit's {@code ties} (TIES-Merging, arXiv:2306.01708): task vectors onto a base, each first cut to its
 * {@code density} (default 1: all) of largest-magnitude elements, then a sign elected per element from the
 * weighted task vectors and only the agreeing ones averaged ({@code normalize}, default true). {@code int8_mask}
 * only changes mergekit's memory use, never the result.
 */
public final class TiesMerge implements MergeMethod {
  @Override
  public String name() {
    return "ties";
  }

  @Override
  public String displayName() {
    return "TIES (task vectors with sign election, arXiv:2306.01708)";
  }

  @Override
  public Set<String> modelParameters() {
    return Set.of("weight", "density");
  }

  @Override
  public Set<String> globalParameters() {
    return Set.of("normalize", "lambda", "int8_mask", "density");
  }

  @Override
  public boolean taskVectors() {
    return true;
  }

  @Override
  public boolean signConsensus() {
    return true;
  }

  @Override
  public Weights weights(String tensorName, List<ParameterLookup> perModel, ParameterLookup global) {
    double[] densities = new double[perModel.size()];
    for (int i = 0; i < perModel.size(); i++) {
      Object density = perModel.get(i).get("density");
      if (density == null) {
        densities[i] = 1;
      } else if (density instanceof Number n && n.doubleValue() > 0 && n.doubleValue() <= 1) {
        densities[i] = n.doubleValue();
      } else {
        throw new UserError("models[" + i + "] density for `" + tensorName + "` must be a number in (0, 1], not "
            + density);
      }
    }
    Weights tasks = new TaskArithmeticMerge().weights(tensorName, perModel, global);
    return new Weights(tasks.weights(), LinearMerge.normalize(global.get("normalize"), true), tasks.lambda(),
        densities);
  }
}
