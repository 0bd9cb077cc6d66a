package dev.amalgam.serve;

/**
 * A request the server refuses, answered with an HTTP status and an OpenAI-style error body naming the field at
 * fault: {@code {"error": {"message", "type", "param", "code"}}}.
 */
final class ApiError extends Exception {
  final int status;
  final String type;
  final String param;
  final String code;

  ApiError(int status, String type, String param, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.type = type;
    this.param = param;
    this.code = code;
  }

  /** A 400 about {@code param}. */
  static ApiError invalid(String param, String message) {
    return new ApiError(400, "invalid_request_error", param, null, message);
  }
}
