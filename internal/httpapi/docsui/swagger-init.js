// Starts Swagger UI on Lepus's own document. validatorUrl null: the default
// would show a badge fetched from validator.swagger.io, and the page must
// work offline.
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
