package dev.amalgam.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.amalgam.UserError;
import dev.amalgam.config.ModelConfig;

/**
 * Rotary embedding parameters and their inverse frequencies, computed in float32 step by step as
 * transformers' {@code _compute_default_rope_parameters} and {@code _compute_llama3_parameters} do, so the
 * angles match the reference to the bit.
 */
public record Rope(String type, double theta, int headDim, double factor, double lowFreqFactor,
    double highFreqFactor, int originalMaxPositions) {

  public static Rope from(ModelConfig config, int headDim) {
    JsonNode p = config.ropeParameters();
    String type = config.ropeType();
    double partial = p.path("partial_rotary_factor").asDouble(config.raw().path("partial_rotary_factor").asDouble(1.0));
    if (partial != 1.0) {
      throw new UserError("partial_rotary_factor " + partial + " is not supported (only 1.0)");
    }
    if (headDim % 2 != 0) {
      throw new UserError("head_dim " + headDim + " is odd; rotary embeddings need an even head_dim");
    }
    return switch (type) {
      case "default" -> new Rope(type, config.ropeTheta(), headDim, 1, 0, 0, 0);
      case "llama3" -> new Rope(type, config.ropeTheta(), headDim, required(p, "factor"),
          required(p, "low_freq_factor"), required(p, "high_freq_factor"),
          (int) required(p, "original_max_position_embeddings"));
      default -> throw new UserError("RoPE type `" + type + "` is not supported (supported: default, llama3)");
    };
  }

  private static double required(JsonNode p, String key) {
    JsonNode n = p.get(key);
    if (n == null || !n.isNumber()) {
      throw new UserError("llama3 RoPE scaling needs a number `" + key + "` in rope_parameters / rope_scaling");
    }
    return n.asDouble();
  }

  /** {@code [headDim / 2]} inverse frequencies, scaling applied. */
  public float[] inverseFrequencies() {
    float[] inv = new float[headDim / 2];
    float base = (float) theta;
    for (int i = 0; i < inv.length; i++) {
      float exponent = (float) (2 * i) / (float) headDim;
      inv[i] = 1.0f / (float) Math.pow(base, exponent);
    }
    return type.equals("llama3") ? llama3(inv) : inv;
  }

  private float[] llama3(float[] inv) {
    float oldContext = originalMaxPositions;
    float lowWavelen = oldContext / (float) lowFreqFactor;
    float highWavelen = oldContext / (float) highFreqFactor;
    float[] scaled = new float[inv.length];
    for (int i = 0; i < inv.length; i++) {
      float wavelen = (float) (2 * Math.PI) / inv[i];
      float llama = wavelen > lowWavelen ? inv[i] / (float) factor : inv[i];
      boolean medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
      if (medium) {
        float smooth = (oldContext / wavelen - (float) lowFreqFactor) / (float) (highFreqFactor - lowFreqFactor);
        llama = (1 - smooth) * llama / (float) factor + smooth * llama;
      }
      scaled[i] = llama;
    }
    return scaled;
  }
}
