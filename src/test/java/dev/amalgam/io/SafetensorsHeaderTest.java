package dev.amalgam.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.amalgam.UserError;
import dev.amalgam.testing.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every claim a safetensors header makes is checked; a bad file is a one-line error naming the problem. */
class SafetensorsHeaderTest {
  @TempDir Path tmp;

  private Path file(long declaredLength, String json, int dataBytes) throws Exception {
    byte[] header = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredLength).put(header);
    Path f = tmp.resolve("t" + System.nanoTime() + ".safetensors");
    Files.write(f, b.array());
    return f;
  }

  private Path file(String json, int dataBytes) throws Exception {
    return file(json.getBytes(StandardCharsets.UTF_8).length, json, dataBytes);
  }

  private void assertCorrupt(Path f, String why) {
    UserError e = assertThrows(UserError.class, () -> SafetensorsHeader.read(f));
    assertTrue(e.getMessage().contains(why), e.getMessage());
  }

  @Test
  void readsAValidHeader() throws Exception {
    var h = SafetensorsHeader.read(file("{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,12]}}", 12));
    TensorInfo w = h.tensors().get("w");
    assertEquals(12, w.byteSize());
    assertEquals("pt", h.metadata().get("format"));
  }

  @Test
  void insaneHeaderLength() throws Exception {
    assertCorrupt(file(1L << 40, "{}", 0), "header length");
    assertCorrupt(file(-5, "{}", 0), "header length");
  }

  @Test
  void tooShortFile() throws Exception {
    Path f = tmp.resolve("short.safetensors");
    Files.write(f, new byte[3]);
    assertCorrupt(f, "too short");
  }

  @Test
  void invalidJson() throws Exception {
    assertCorrupt(file("{\"w\": [", 0), "not valid JSON");
    assertCorrupt(file("[1, 2]", 0), "not a JSON object");
  }

  @Test
  void unknownDtype() throws Exception {
    assertCorrupt(file("{\"w\":{\"dtype\":\"BF17\",\"shape\":[1],\"data_offsets\":[0,2]}}", 2), "unknown dtype `BF17`");
  }

  @Test
  void offsetsOutsideTheFile() throws Exception {
    assertCorrupt(file("{\"w\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 4), "outside");
  }

  /** 2^64 + 0 and 2^64 + 8 read as longs would wrap around to [0, 8], a valid range. */
  @Test
  void offsetsPastTwoToTheSixtyThreeAreRefusedNotWrapped() throws Exception {
    assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],"
        + "\"data_offsets\":[18446744073709551616,18446744073709551624]}}", 8), "invalid data_offsets");
  }

  @Test
  void sizeMustMatchShapeTimesDtype() throws Exception {
    assertCorrupt(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8), "holds 8");
  }

  @Test
  void overlappingTensors() throws Exception {
    assertCorrupt(file("{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[4,12]}}", 12), "overlap");
  }

  @Test
  void negativeShape() throws Exception {
    assertCorrupt(file("{\"w\":{\"dtype\":\"BF16\",\"shape\":[-1],\"data_offsets\":[0,2]}}", 2), "invalid shape");
  }

  @Test
  void indexMayNotLeaveTheModelFolder() throws Exception {
    Path model = Files.createDirectory(tmp.resolve("model"));
    Files.writeString(model.resolve("config.json"), "{}");
    Files.copy(Fixtures.A.resolve("model.safetensors"), tmp.resolve("outside.safetensors"));
    Files.writeString(model.resolve(ModelDirectory.INDEX_FILE),
        "{\"weight_map\": {\"lm_head.weight\": \"../outside.safetensors\"}}");
    UserError e = assertThrows(UserError.class, () -> ModelDirectory.open(model));
    assertTrue(e.getMessage().contains("outside the model folder"), e.getMessage());
  }

  @Test
  void indexMustPointAtTheShardThatHoldsTheTensor() throws Exception {
    Path model = Files.createDirectory(tmp.resolve("model"));
    Files.copy(Fixtures.A.resolve("model.safetensors"), model.resolve("one.safetensors"));
    Files.writeString(model.resolve(ModelDirectory.INDEX_FILE), "{\"weight_map\": {\"no.such.tensor\": \"one.safetensors\"}}");
    UserError e = assertThrows(UserError.class, () -> ModelDirectory.open(model));
    assertTrue(e.getMessage().contains("does not hold it"), e.getMessage());
  }

  /** The Hugging Face hub cache: every file of a snapshot is a link to ../../blobs/SHA. */
  @Test
  void aShardedSnapshotOfTheHubCacheIsRead() throws Exception {
    Path entry = tmp.resolve("hub/models--org--tiny");
    Path blobs = Files.createDirectories(entry.resolve("blobs"));
    Path snapshot = Files.createDirectories(entry.resolve("snapshots/0123abcd"));
    try (var files = Files.list(Fixtures.B_SHARDED)) {
      int n = 0;
      for (Path f : files.toList()) {
        Path blob = Files.copy(f, blobs.resolve("sha" + n++));
        Files.createSymbolicLink(snapshot.resolve(f.getFileName()), Path.of("../../blobs").resolve(blob.getFileName()));
      }
    }
    try (ModelDirectory model = ModelDirectory.open(snapshot)) {
      assertEquals(51, model.tensors().size());
    }
    // A link out of the cache entry is still refused.
    Path shard = snapshot.resolve("model-00001-of-00007.safetensors");
    Files.copy(shard, tmp.resolve("elsewhere.safetensors"));
    Files.delete(shard);
    Files.createSymbolicLink(shard, tmp.resolve("elsewhere.safetensors"));
    UserError e = assertThrows(UserError.class, () -> ModelDirectory.open(snapshot));
    assertTrue(e.getMessage().contains("a link that leaves the model folder"), e.getMessage());
  }

  @Test
  void readsAShardedCheckpoint() {
    try (ModelDirectory model = ModelDirectory.open(Fixtures.B_SHARDED)) {
      assertEquals(51, model.tensors().size());
      assertEquals(1716992, model.totalBytes());
    }
  }
}
