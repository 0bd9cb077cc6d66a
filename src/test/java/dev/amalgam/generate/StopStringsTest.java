package dev.amalgam.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {
  @Test
  void holdsBackAPossibleStartThenCutsBeforeTheStop() {
    StopStrings stops = new StopStrings(List.of("\n\n", "END"));
    assertEquals("one", stops.accept("one"));
    assertEquals("", stops.accept("\n"));
    assertEquals("\n", stops.accept("E"));
    assertFalse(stops.stopped());
    assertEquals("ENx", stops.accept("Nx"));
    assertEquals("two", stops.accept("two\n\nrest"));
    assertTrue(stops.stopped());
  }

  @Test
  void releasesHeldTextWhenNoStopFollows() {
    StopStrings stops = new StopStrings(List.of("END"));
    assertEquals("ab", stops.accept("abEN"));
    assertEquals("EN", stops.flush());
  }

  @Test
  void aStopSplitAcrossPiecesIsFound() {
    StopStrings stops = new StopStrings(List.of("stop"));
    String emitted = stops.accept("a st") + stops.accept("o") + stops.accept("p and more");
    assertEquals("a ", emitted);
    assertTrue(stops.stopped());
  }
}
