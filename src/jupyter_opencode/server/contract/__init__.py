"""The REST contract: request and response shapes, their checks, and the OpenAPI document."""
