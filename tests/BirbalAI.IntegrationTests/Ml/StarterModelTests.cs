using System.Text.Json;
using BirbalAI.IntegrationTests.Hosting;
using BirbalAI.Ml.Registry;
using BirbalAI.Ml.Starter;
using BirbalAI.Ml.Text;
using BirbalAI.Platform.Blobs;
using Microsoft.Extensions.DependencyInjection;

namespace BirbalAI.IntegrationTests.Ml;

/// <summary>The product moderates from its first start: the starter model is registered and made production.</summary>
public sealed class StarterModelTests(StarterModelTests.Fixture fixture) : IClassFixture<StarterModelTests.Fixture>
{
    /// <summary>One app for the class with the starter model: no test registers or promotes a version on it.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        public App App { get; } = new();

        // The cache `make test` fills; trained here when it is empty.
        public string Directory { get; } = StarterModels.Directory;

        public async ValueTask InitializeAsync()
        {
            await App.InitializeAsync();
            App.With("Ml:StarterModelDirectory", Directory);
        }

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    readonly App app = fixture.App;
    readonly string directory = fixture.Directory;

    [Fact]
    public async Task The_starter_model_is_the_first_production_version_with_its_metrics_marked_as_the_starter_corpus()
    {
        var registry = app.Services.GetRequiredService<ModelRegistry>();

        var production = await registry.ProductionAsync(TestContext.Current.CancellationToken);

        Assert.NotNull(production);
        Assert.Equal(1, production.Number);
        Assert.Equal(StarterModel.Source, production.Source);
        Assert.Equal(BirbalAI.Ml.Categories.Default, production.Categories);
        Assert.Equal("starter corpus", production.Evaluation!.Note);
        Assert.InRange(production.Evaluation.MacroF1, 0.01, 1);
        var onnx = await File.ReadAllBytesAsync(Path.Combine(directory, "model.onnx"), TestContext.Current.CancellationToken);
        Assert.Equal(BlobHash.Of(onnx), production.ArtifactHash);
        Assert.Equal(onnx, await registry.ArtifactAsync(production, TestContext.Current.CancellationToken));
        // An ensemble: both components in the blob store, the combination with the version.
        Assert.Equal("ensemble", production.Kind);
        Assert.Equal(["ngram", "encoder"], production.ComponentList.Select(c => c.Kind));
        var encoder = production.ComponentList[1];
        var encoderOnnx = await File.ReadAllBytesAsync(Path.Combine(directory, "encoder.onnx"), TestContext.Current.CancellationToken);
        Assert.Equal(BlobHash.Of(encoderOnnx), encoder.Artifact);
        Assert.Equal(BlobHash.Of(await File.ReadAllBytesAsync(Path.Combine(directory, "vocab.txt"), TestContext.Current.CancellationToken)), encoder.Vocabulary);
        Assert.Equal(["en"], encoder.Languages);
        Assert.Equal(13, production.CombinationWeights!.Categories.Count);
        using var card = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(directory, "model.json"), TestContext.Current.CancellationToken));
        Assert.Equal(card.RootElement.GetProperty("data_hash").GetString(), production.DataHash);
    }

    [Fact]
    public async Task The_models_page_shows_the_starter_model_with_its_metrics_marked_as_the_starter_corpus()
    {
        var admin = await Accounts.SignedInAsync(app, BirbalAI.Contracts.Identity.Roles.Admin);

        var page = await BirbalAI.Testing.HtmlForms.GetDocumentAsync(admin, "/admin/ml/models");

        var row = page.QuerySelector("#versions tr[data-version='1']")!.TextContent;
        Assert.Contains("starter corpus", row);
        Assert.Contains("production", row);
        Assert.Contains("starter corpus", page.QuerySelector("#metrics-note")!.TextContent);
        Assert.Equal(13, page.QuerySelectorAll("#production-metrics tbody tr").Length);
    }

    [Fact]
    public async Task Replicas_registering_together_make_exactly_one_first_version()
    {
        await using var empty = new App();   // no starter model configured: its registry starts empty
        await empty.InitializeAsync();
        var registry = empty.Services.GetRequiredService<ModelRegistry>();
        var package = BirbalAI.Ml.Training.ModelPackage.Read(directory);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => registry.RegisterFirstAsync(package, TestContext.Current.CancellationToken)));

        var first = Assert.Single(results, r => r is not null)!;
        Assert.Equal(1, first.Number);
        Assert.Single(await registry.ListAsync(TestContext.Current.CancellationToken));
        Assert.Equal(first.Id, (await registry.ProductionAsync(TestContext.Current.CancellationToken))!.Id);
    }

    [Fact]
    public async Task A_second_start_registers_nothing_more()
    {
        await using var replica = App.ReplicaOf(app);
        replica.With("Ml:StarterModelDirectory", directory);
        _ = replica.Services;   // starts it

        Assert.Single(await app.Services.GetRequiredService<ModelRegistry>().ListAsync(TestContext.Current.CancellationToken));
    }
}
