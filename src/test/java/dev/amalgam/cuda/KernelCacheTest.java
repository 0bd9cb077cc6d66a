package dev.amalgam.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelCacheTest {
  private static final byte[] CUBIN = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 42};
  private static final List<String> OPTIONS = List.of("--gpu-architecture=sm_90", "--fmad=false");

  @TempDir Path dir;

  @Test
  void keyIsAStableSha256OfEveryInput() {
    String key = KernelCache.key("src", "sm_90", OPTIONS, "13.0");
    assertEquals(key, KernelCache.key("src", "sm_90", OPTIONS, "13.0"));
    assertTrue(key.matches("[0-9a-f]{64}"), key);
    assertNotEquals(key, KernelCache.key("src ", "sm_90", OPTIONS, "13.0"));
    assertNotEquals(key, KernelCache.key("src", "sm_80", OPTIONS, "13.0"));
    assertNotEquals(key, KernelCache.key("src", "sm_90", List.of("--gpu-architecture=sm_90"), "13.0"));
    assertNotEquals(key, KernelCache.key("src", "sm_90", OPTIONS, "13.1"));
  }

  @Test
  void keyCannotBeForgedByMovingTextBetweenParts() {
    assertNotEquals(KernelCache.key("ab", "c", List.of(), "v"), KernelCache.key("a", "bc", List.of(), "v"));
    assertNotEquals(KernelCache.key("s", "a", List.of("x", "y"), "v"), KernelCache.key("s", "a", List.of("xy"), "v"));
  }

  @Test
  void writtenImageIsReadBackAndNoTemporaryFileRemains() throws IOException {
    KernelCache cache = new KernelCache(dir.resolve("nested/cubin"));
    String key = KernelCache.key("src", "sm_90", OPTIONS, "13.0");
    assertTrue(cache.read("merge", key).isEmpty());
    cache.write("merge", key, CUBIN);
    assertArrayEquals(CUBIN, cache.read("merge", key).orElseThrow());
    assertEquals(dir.resolve("nested/cubin/merge-" + key + ".cubin"), cache.fileFor("merge", key));
    try (Stream<Path> files = Files.list(dir.resolve("nested/cubin"))) {
      assertEquals(List.of(cache.fileFor("merge", key)), files.toList());
    }
  }

  @Test
  void rewritingReplacesTheImage() throws IOException {
    KernelCache cache = new KernelCache(dir);
    cache.write("merge", "k", CUBIN);
    byte[] newer = {0x7f, 'E', 'L', 'F', 9};
    cache.write("merge", "k", newer);
    assertArrayEquals(newer, cache.read("merge", "k").orElseThrow());
  }

  @Test
  void anythingButAnElfImageIsAMiss() throws IOException {
    KernelCache cache = new KernelCache(dir);
    Files.write(cache.fileFor("merge", "truncated"), new byte[] {0x7f, 'E'});
    Files.writeString(cache.fileFor("merge", "text"), "not a cubin");
    assertTrue(cache.read("merge", "truncated").isEmpty());
    assertTrue(cache.read("merge", "text").isEmpty());
  }

  @Test
  void cacheFolderComesFromTheEnvironmentOrTheHomeFolder() {
    assertEquals(Path.of("/tmp/kc"), KernelCache.defaultDir(Map.of("AMALGAM_CACHE_DIR", "/tmp/kc"), "/home/u"));
    assertEquals(Path.of("/home/u/.cache/amalgam/cubin"), KernelCache.defaultDir(Map.of(), "/home/u"));
    assertEquals(Path.of("/home/u/.cache/amalgam/cubin"),
        KernelCache.defaultDir(Map.of("AMALGAM_CACHE_DIR", " "), "/home/u"));
  }
}
