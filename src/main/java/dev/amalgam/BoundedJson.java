package dev.amalgam;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;

/** A JSON file read through {@link BoundedText}, with a parse error as one line that says where. */
public final class BoundedJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private BoundedJson() {}

  /** The JSON of {@code file}, at most {@code maxBytes}; {@code what} names it in errors ("config.json"). */
  public static JsonNode read(Path file, long maxBytes, String what) {
    return parse(BoundedText.read(file, maxBytes, what), what + " " + file);
  }

  /** {@code text} parsed; a syntax error is a user error naming {@code what}, the line and the column. */
  public static JsonNode parse(String text, String what) {
    try {
      JsonNode node = JSON.readTree(text);
      if (node == null || node.isMissingNode()) {
        throw new UserError(what + " is empty");
      }
      return node;
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      String reason = e.getOriginalMessage() == null ? "" : e.getOriginalMessage().replaceAll("\\s+", " ");
      throw new UserError(what + " is not valid JSON" + where + ": "
          + (reason.length() > 200 ? reason.substring(0, 200) + "..." : reason));
    }
  }
}
