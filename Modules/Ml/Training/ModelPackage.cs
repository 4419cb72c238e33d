using System.Text.Json;

namespace BirbalAI.Ml.Training;

/// <summary>
/// A model folder as training leaves it and registration reads it: model.json (the card) and the files its kind
/// needs — model.onnx (the n-gram classifier), encoder.onnx and vocab.txt (the encoder with its heads).
/// </summary>
sealed record ModelPackage(ModelCard Card, byte[]? Ngram, byte[]? Encoder = null, byte[]? Vocabulary = null)
{
    public const string CardFile = "model.json", NgramFile = "model.onnx", EncoderFile = "encoder.onnx", VocabularyFile = "vocab.txt";

    public bool HasNgram => Card.Kind is ModelKinds.Ngram or ModelKinds.Ensemble;
    public bool HasEncoder => Card.Kind is ModelKinds.Encoder or ModelKinds.Ensemble;

    /// <summary>Checks that the files match the kind; the message names what is missing.</summary>
    public ModelPackage Validate()
    {
        if (!ModelKinds.All.Contains(Card.Kind)) throw new InvalidDataException($"unknown model kind '{Card.Kind}' (one of {string.Join(", ", ModelKinds.All)})");
        if (HasNgram && Ngram is not { Length: > 0 }) throw new InvalidDataException($"a {Card.Kind} model needs {NgramFile}");
        if (HasEncoder && (Encoder is not { Length: > 0 } || Vocabulary is not { Length: > 0 }))
            throw new InvalidDataException($"a {Card.Kind} model needs {EncoderFile} and {VocabularyFile}");
        if (Card.Kind == ModelKinds.Ensemble && Card.Combination is null) throw new InvalidDataException("an ensemble model needs its combination in model.json");
        return this;
    }

    public static ModelPackage Read(string directory)
    {
        var card = Path.Combine(directory, CardFile);
        if (!File.Exists(card)) throw new FileNotFoundException($"{directory} holds no model ({CardFile} is missing)");
        byte[]? Optional(string name) => File.Exists(Path.Combine(directory, name)) ? File.ReadAllBytes(Path.Combine(directory, name)) : null;
        var parsed = JsonSerializer.Deserialize<ModelCard>(File.ReadAllText(card), ModelTraining.Json)!;
        try
        {
            return new ModelPackage(parsed, Optional(NgramFile), Optional(EncoderFile), Optional(VocabularyFile)).Validate();
        }
        catch (InvalidDataException e)
        {
            throw new FileNotFoundException($"{directory}: {e.Message}");
        }
    }

    /// <summary>Writes the folder via a temporary one: a failure leaves nothing half-written.</summary>
    public void Write(string directory)
    {
        Validate();
        var full = Path.GetFullPath(directory);
        var staging = full + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        try
        {
            if (Ngram is not null) File.WriteAllBytes(Path.Combine(staging, NgramFile), Ngram);
            if (Encoder is not null) File.WriteAllBytes(Path.Combine(staging, EncoderFile), Encoder);
            if (Vocabulary is not null) File.WriteAllBytes(Path.Combine(staging, VocabularyFile), Vocabulary);
            File.WriteAllText(Path.Combine(staging, CardFile), JsonSerializer.Serialize(Card, ModelTraining.Json));
            if (Directory.Exists(full)) Directory.Delete(full, recursive: true);
            Directory.Move(staging, full);
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
