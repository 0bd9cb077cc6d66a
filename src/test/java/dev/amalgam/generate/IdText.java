package dev.amalgam.generate;

/** Token ids as text "<id>", so stop strings can be aimed at known tokens. */
final class IdText implements TokenText {
  @Override
  public String accept(int id) {
    return "<" + id + ">";
  }

  @Override
  public String flush() {
    return "";
  }
}
