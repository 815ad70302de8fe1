using System.Text.Json;
using TSViz.Monitor.Tests.Jobs;
using TSViz.Tests.Shared;

namespace TSViz.Monitor.Tests.Web;

/// <summary>The OpenAPI document describes every /api operation's success response with a JSON schema.</summary>
public sealed class OpenApiDocumentTests
{
    private static readonly string[] Successes = ["200", "201", "202"];

    [Fact]
    public async Task Document_EveryApiOperation_HasASuccessResponseSchema()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var monitor = await JobsTestMonitor.StartAsync(Path.Combine(RepositoryPaths.NewTempDirectory(), "history.db"), simulator: false, cancel.Token);

        var document = await monitor.GetAsync("/openapi/v1.json", cancel.Token);

        var operations = ApiOperations(document).ToList();
        Assert.Contains("GET /api/windows", operations);
        Assert.Contains("POST /api/jobs/{name}/trigger", operations);
        Assert.Contains("GET /api/model/inversion", operations);
        Assert.Contains("GET /api/whoami", operations);
        // The query records' parameters keep their query-string names; the feedback body is described.
        var windows = document.GetProperty("paths").GetProperty("/api/windows").GetProperty("get");
        Assert.Equal(
            ["machine", "from", "to", "minScore", "reasonCode", "dominantChannel", "hasDetail", "limit", "cursor"],
            windows.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.True(document.GetProperty("paths").GetProperty("/api/alerts/{id}/feedback").GetProperty("post").TryGetProperty("requestBody", out _));
        var missing = WithoutResponseSchema(document);
        Assert.True(missing.Count == 0, "No success response schema: " + string.Join(", ", missing));
    }

    [Fact]
    public void WithoutResponseSchema_AnOperationWithoutOne_IsNamed()
    {
        // The shape the document had for the inline lambdas answering IResult: a 200 without content.
        var document = JsonDocument.Parse("""
            {
              "paths": {
                "/api/typed": { "get": { "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Typed" } } } } } } },
                "/api/list": { "get": { "responses": { "200": { "content": { "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } } } } } } } },
                "/api/untyped": { "get": { "responses": { "200": { "description": "OK" } } } },
                "/api/anything": { "post": { "responses": { "201": { "content": { "application/json": { "schema": { } } } } } } },
                "/metrics": { "get": { "responses": { "200": { "description": "OK" } } } }
              }
            }
            """).RootElement;

        Assert.Equal(["GET /api/untyped", "POST /api/anything"], WithoutResponseSchema(document));
    }

    private static IEnumerable<string> ApiOperations(JsonElement document)
        => Operations(document).Select(o => o.Name);

    private static IEnumerable<(string Name, JsonElement Operation)> Operations(JsonElement document)
        => from path in document.GetProperty("paths").EnumerateObject()
           where path.Name.StartsWith("/api/", StringComparison.Ordinal)
           from operation in path.Value.EnumerateObject()
           where operation.Name is "get" or "post" or "put" or "patch" or "delete"
           select ($"{operation.Name.ToUpperInvariant()} {path.Name}", operation.Value);

    /// <summary>The /api operations whose 200, 201 or 202 response has no JSON schema (a $ref, properties, or an array of either).</summary>
    private static List<string> WithoutResponseSchema(JsonElement document)
        => [.. Operations(document).Where(o => !HasSuccessSchema(o.Operation)).Select(o => o.Name)];

    private static bool HasSuccessSchema(JsonElement operation)
        => operation.TryGetProperty("responses", out var responses)
           && Successes.Any(code => responses.TryGetProperty(code, out var response)
               && response.TryGetProperty("content", out var content)
               && content.TryGetProperty("application/json", out var json)
               && json.TryGetProperty("schema", out var schema)
               && Describes(schema));

    private static bool Describes(JsonElement schema)
        => schema.TryGetProperty("$ref", out _)
           || schema.TryGetProperty("properties", out _)
           || (schema.TryGetProperty("items", out var items) && Describes(items));
}
