"""The HTTP interface (Litestar): routes, problem details, authentication, middleware."""
