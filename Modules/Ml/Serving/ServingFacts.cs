using BirbalAI.Platform.Operations;

namespace BirbalAI.Ml.Serving;

/// <summary>What this instance serves, for the System page: the production model it has loaded and the other versions it holds.</summary>
sealed class ServingFacts(ModelCatalog catalog) : IInstanceFacts
{
    public IEnumerable<KeyValuePair<string, string>> Facts()
    {
        yield return new("Model in production", catalog.Production is { } production ? $"v{production.Number}" : "none loaded");
        yield return new("Models loaded", string.Join(", ", catalog.Loaded.Select(m => $"v{m.Number}")) is { Length: > 0 } loaded ? loaded : "none");
    }
}
