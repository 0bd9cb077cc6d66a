package dev.amalgam.generate;

/**
 * One sequence to generate: its prompt ids, its settings, how its tokens become text, and who hears about them.
 *
 * @param label names the request in error messages (for example {@code line 3}), or null for a lone prompt
 */
public record GenerationRequest(int[] prompt, GenerationSettings settings, TokenText text, TokenListener listener,
    String label) {}
