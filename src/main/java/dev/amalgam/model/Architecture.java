package dev.amalgam.model;

import java.util.Arrays;
import java.util.Optional;

/** The decoder families the Transformer runs. They differ only in which biases their layers carry. */
public enum Architecture {
  QWEN2("Qwen2ForCausalLM"),
  LLAMA("LlamaForCausalLM"),
  MISTRAL("MistralForCausalLM");

  private final String hfName;

  Architecture(String hfName) {
    this.hfName = hfName;
  }

  public String hfName() {
    return hfName;
  }

  public static Optional<Architecture> fromHf(String name) {
    return Arrays.stream(values()).filter(a -> a.hfName.equals(name)).findFirst();
  }

  public static String supportedNames() {
    return String.join(", ", Arrays.stream(values()).map(Architecture::hfName).toList());
  }
}
