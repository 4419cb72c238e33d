using Lingua;

namespace BirbalAI.Ml.Text;

/// <summary>
/// The language of a text: Lingua restricted to the supported languages (built once: all of Lingua's
/// languages would cost over a gigabyte), "und" when the text is too short or Lingua unsure, and our own
/// check for Hindi written in Latin letters ("hi-Latn"), which Lingua has no model for.
/// </summary>
sealed class LanguageDetection
{
    public const string Undetermined = "und";
    public const string RomanisedHindi = "hi-Latn";

    /// <summary>Texts shorter than this many letters are "und": single words are guesses.</summary>
    public const int MinLetters = 12;
    public const double MinConfidence = 0.5;

    static readonly Dictionary<Language, string> Supported = new()
    {
        [Language.English] = "en", [Language.Spanish] = "es", [Language.German] = "de", [Language.French] = "fr",
        [Language.Portuguese] = "pt", [Language.Hindi] = "hi", [Language.Arabic] = "ar",
    };

    public static IReadOnlyCollection<string> Codes { get; } = [.. Supported.Values, RomanisedHindi];

    readonly LanguageDetector detector = LanguageDetectorBuilder.FromLanguages([.. Supported.Keys]).WithPreloadedLanguageModels().Build();

    public string Detect(string text)
    {
        if (text.Count(char.IsLetter) < MinLetters) return Undetermined;
        if (IsRomanisedHindi(text)) return RomanisedHindi;
        var (language, confidence) = detector.ComputeLanguageConfidenceValues(text).First();
        return confidence >= MinConfidence && Supported.TryGetValue(language, out var code) ? code : Undetermined;
    }

    // Function words and very common words of Hindi as people type it in Latin letters; few of them are
    // English, Spanish, German, French or Portuguese words.
    static readonly HashSet<string> HinglishWords =
    [
        "hai", "hain", "nahi", "nahin", "kya", "kyun", "kyon", "mera", "meri", "mere", "tera", "teri", "tere", "tum", "tumhara",
        "aap", "aapka", "hum", "hamara", "yeh", "woh", "bahut", "accha", "acha", "bhai", "yaar", "kuch", "koi", "kab", "kaise",
        "kaisa", "mujhe", "tujhe", "usko", "isko", "raha", "rahi", "rahe", "tha", "thi", "hoga", "hogi", "karo", "karna", "kar",
        "bhi", "toh", "sab", "log", "abhi", "phir", "matlab", "sach", "bilkul", "chalo", "pata", "dekh", "dekho", "bol", "bolo",
        "ke", "ki", "ka", "ko", "se", "mein", "aur", "par", "ek", "agar", "lekin", "jab", "tab", "saath", "wala", "wali",
    ];

    /// <summary>Latin script, and at least two words and a quarter of all words from the list above.</summary>
    static bool IsRomanisedHindi(string text)
    {
        if (!text.Any(char.IsAsciiLetter) || text.Any(c => c is >= '\u0900' and <= '\u097F')) return false;
        var words = text.ToLowerInvariant().Split([' ', ',', '.', '!', '?', ';', ':', '"', '\''], StringSplitOptions.RemoveEmptyEntries);
        var hits = words.Count(HinglishWords.Contains);
        return hits >= 2 && hits * 4 >= words.Length;
    }
}
