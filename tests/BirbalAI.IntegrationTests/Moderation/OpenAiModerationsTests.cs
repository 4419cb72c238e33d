using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BirbalAI.Contracts.Identity;
using OpenAI;
using OpenAI.Moderations;

#pragma warning disable OPENAI001   // the SDK marks multi-modal inputs as evaluation-only; they are part of the API we copy

namespace BirbalAI.IntegrationTests.Moderation;

/// <summary>
/// POST /v1/moderations through the official OpenAI .NET SDK, on a real socket, with only the endpoint changed
/// (and a Birbal API key as the SDK's key).
/// </summary>
public sealed class OpenAiModerationsTests(OpenAiModerationsTests.Fixture fixture) : IClassFixture<OpenAiModerationsTests.Fixture>
{
    /// <summary>One app on a socket for the class, and one member's key: no test changes the policy or the models.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();
        public Uri Address { get; private set; } = null!;
        public string Key { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.WithStarterModel();
            Address = App.StartOnSocket();
            (_, Key, _) = await Accounts.WithApiKeyAsync(App, Roles.Member);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    readonly Uri address = fixture.Address;
    readonly string key = fixture.Key;

    ModerationClient Client(string model = "omni-moderation-latest", string? apiKey = null) =>
        new(model, new ApiKeyCredential(apiKey ?? key), new OpenAIClientOptions { Endpoint = new Uri(address, "/v1") });

    static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_string_input_is_classified_with_every_category()
    {
        ModerationResult result = await Client().ClassifyTextAsync(StarterModels.Threat, Ct);

        Assert.True(result.Flagged);
        Assert.True(result.Violence.Flagged || result.HarassmentThreatening.Flagged);
        Assert.InRange(result.Violence.Score, 0f, 1f);
        ModerationCategory[] all = [result.Harassment, result.HarassmentThreatening, result.Hate, result.HateThreatening, result.Illicit,
            result.IllicitViolent, result.SelfHarm, result.SelfHarmIntent, result.SelfHarmInstructions, result.Sexual, result.SexualMinors,
            result.Violence, result.ViolenceGraphic];
        Assert.All(all, c => Assert.NotNull(c));
    }

    [Fact]
    public async Task An_array_of_strings_gets_one_result_per_string_in_order()
    {
        ModerationResultCollection results = await Client("text-moderation-latest").ClassifyTextAsync([StarterModels.Clean, StarterModels.Threat], Ct);

        Assert.Equal(2, results.Count);
        Assert.False(results[0].Flagged);
        Assert.True(results[1].Flagged);
        Assert.Equal("birbal-v1", results.Model);
        Assert.StartsWith("modr-", results.Id);
    }

    [Fact]
    public async Task Text_parts_are_one_input_read_together()
    {
        ModerationResult clean = await Client().ClassifyInputsAsync([ModerationInputPart.CreateTextPart(StarterModels.Clean)], Ct);
        ModerationResult mixed = await Client().ClassifyInputsAsync(
            [ModerationInputPart.CreateTextPart(StarterModels.Clean), ModerationInputPart.CreateTextPart(StarterModels.Threat)], Ct);

        Assert.False(clean.Flagged);
        Assert.True(mixed.Flagged);
    }

    [Fact]
    public async Task An_image_part_is_refused_with_a_clear_400_in_openai_shape()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client().ClassifyInputsAsync(
            [ModerationInputPart.CreateTextPart("hello"), ModerationInputPart.CreateImagePart(new Uri("https://example.org/cat.png"))], Ct));

        Assert.Equal(400, error.Status);
        var body = Envelope(error);
        Assert.Contains("image inputs are not supported", body.GetProperty("message").GetString());
        Assert.Equal("invalid_request_error", body.GetProperty("type").GetString());
        Assert.Equal("input[1]", body.GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_birbal_version_name_selects_that_version_and_an_unknown_model_is_openais_404()
    {
        ModerationResult named = await Client("birbal-v1").ClassifyTextAsync(StarterModels.Clean, Ct);
        Assert.False(named.Flagged);

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client("gpt-unknown").ClassifyTextAsync("hello", Ct));
        Assert.Equal(404, error.Status);
        var body = Envelope(error);
        Assert.Equal("model_not_found", body.GetProperty("code").GetString());
        Assert.Equal("model", body.GetProperty("param").GetString());
    }

    [Fact]
    public async Task A_jwt_works_as_the_sdks_key()
    {
        var (_, email) = await Accounts.CreateAsync(app, Roles.Member);
        using var http = new HttpClient { BaseAddress = address };
        var token = await (await http.PostAsJsonAsync("/api/auth/token", new { email, password = Accounts.Password }, Ct))
            .Content.ReadFromJsonAsync<JsonElement>(Ct);

        ModerationResult result = await Client(apiKey: token.GetProperty("access_token").GetString()).ClassifyTextAsync(StarterModels.Threat, Ct);

        Assert.True(result.Flagged);
    }

    [Fact]
    public async Task A_wrong_key_is_openais_401()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client(apiKey: "bk_not-a-real-key").ClassifyTextAsync("hello", Ct));

        Assert.Equal(401, error.Status);
        Assert.Equal("invalid_api_key", Envelope(error).GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_raw_answer_has_exactly_openais_fields()
    {
        using var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);

        var response = await http.PostAsJsonAsync("/v1/moderations", new { input = "hello there, friend" }, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(["id", "model", "results"], json.RootElement.EnumerateObject().Select(p => p.Name));
        var result = json.RootElement.GetProperty("results")[0];
        Assert.Equal(["flagged", "categories", "category_scores", "category_applied_input_types"], result.EnumerateObject().Select(p => p.Name));
        Assert.Equal(BirbalAI.Ml.Categories.Default, result.GetProperty("categories").EnumerateObject().Select(p => p.Name));
        Assert.Equal(13, result.GetProperty("category_scores").EnumerateObject().Count());
        Assert.All(result.GetProperty("category_applied_input_types").EnumerateObject(), p => Assert.Equal("text", p.Value[0].GetString()));
    }

    [Theory]
    [InlineData("""{"model": "omni-moderation-latest"}""", "'input' is a required property.", "input")]
    [InlineData("""{"input": 42}""", "'input' must be a string", "input")]
    [InlineData("""{"input": []}""", "'input' is empty", "input")]
    [InlineData("""{"input": [{"type": "audio"}]}""", "unknown part type 'audio'", "input[0].type")]
    [InlineData("""{"input": ["hi", {"type": "text", "text": "x"}]}""", "an array is either all strings or all parts", "input[0]")]
    [InlineData("""{"input": "hi", "model": 7}""", "'model' must be a string.", "model")]
    [InlineData("""not json""", "The body is not valid JSON", null)]
    public async Task Malformed_requests_get_400_naming_the_parameter(string body, string message, string? param)
    {
        var response = await Post(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = await ErrorOf(response);
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
    }

    [Fact]
    public async Task The_limits_on_inputs_characters_and_bytes_are_enforced_in_openai_shape()
    {
        var tooMany = await Post(JsonSerializer.Serialize(new { input = Enumerable.Repeat("hi", 65).ToArray() }));
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("At most 64 inputs", (await ErrorOf(tooMany)).GetProperty("message").GetString());

        var tooLong = await Post(JsonSerializer.Serialize(new { input = new string('a', 20_001) }));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains("limit is 20000 (Ml:Limits:MaxInputChars)", (await ErrorOf(tooLong)).GetProperty("message").GetString());

        var tooBig = await Post(JsonSerializer.Serialize(new { input = Enumerable.Repeat(new string('a', 19_000), 30).ToArray() }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal("request_too_large", (await ErrorOf(tooBig)).GetProperty("code").GetString());
    }

    async Task<HttpResponseMessage> Post(string body)
    {
        using var http = new HttpClient { BaseAddress = address };
        http.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return await http.PostAsync("/v1/moderations", new StringContent(body, Encoding.UTF8, "application/json"), Ct);
    }

    static async Task<JsonElement> ErrorOf(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("error");

    static JsonElement Envelope(ClientResultException error) =>
        JsonDocument.Parse(error.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");
}
