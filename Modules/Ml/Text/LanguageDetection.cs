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

    /// <summary>
    /// Lingua reads at most this many characters of a text: a language shows in its first lines, and Lingua's
    /// n-gram tables over a 20,000-character text cost tens of megabytes per call.
    /// </summary>
    public const int MaxChars = 2_000;

    public string Detect(string text)
    {
        if (text.Length > MaxChars) text = text[..(char.IsHighSurrogate(text[MaxChars - 1]) ? MaxChars - 1 : MaxChars)];
        if (text.Count(char.IsLetter) < MinLetters) return Undetermined;
        if (IsRomanisedHindi(text)) return RomanisedHindi;
        var (language, confidence) = detector.ComputeLanguageConfidenceValues(text).First();
        return confidence >= MinConfidence && Supported.TryGetValue(language, out var code) ? code : Undetermined;
    }

    // Function words and very common words of Hindi as people type it in Latin letters, with their usual
    // spellings; none of them is a common English, Spanish, German, French or Portuguese word.
    static readonly HashSet<string> HinglishWords =
    [
        "hai", "hain", "nahi", "nahin", "nhi", "nai", "kya", "kyaa", "kyun", "kyon", "kyu", "kyunki", "mera", "meri", "mere", "tera", "teri", "tere",
        "tum", "tumhara", "tumhari", "tumhe", "tumko", "aap", "aapka", "aapki", "aapke", "hum", "hamara", "hamari", "humko", "hume", "humne",
        "yeh", "bahut", "bohot", "bahot", "accha", "acha", "achha", "bhai", "bhaiya", "yaar", "yar", "kuch", "koi", "kab", "kaise",
        "kaisa", "kaisi", "kaun", "kahan", "kidhar", "idhar", "udhar", "mujhe", "mujhse", "tujhe", "tujhse", "usko", "isko", "unko", "inko",
        "uska", "uski", "uske", "iska", "iski", "iske", "unka", "unki", "unke", "apna", "apni", "apne", "raha", "rahi", "rahe", "tha", "thi",         "hoga", "hogi", "honge", "hota", "hoti", "hote", "hoon", "hu", "karo", "karna", "kar", "karta", "karti", "karte", "karega", "karegi", "kare",
        "kiya", "kiye", "kari", "liya", "liye", "diya", "diye", "gaya", "gayi", "gaye", "bhi", "toh", "sab", "sabko", "abhi", "phir",         "matlab", "sach", "bilkul", "chalo", "dekh", "dekho", "bol", "bolo", "batao", "suno", "samajh", "samjha", "chahiye",
        "sakta", "sakti", "sakte", "wahi", "yahi", "zyada", "jyada", "thoda", "thodi", "sirf", "kabhi", "hamesha", "pehle", "baad",         "bahar", "raat", "aaj", "paise", "ghar", "dost", "pagal", "bakwas", "ladka", "ladki", "ladke", "wala", "wali", "wale", "waala", "waali",
        "jaise", "aisa", "aise", "aisi", "waisa", "kyonki", "lekin", "magar", "agar", "saath", "aur", "ek", "haan", "ji", "arre",
        "arey", "didi", "maine", "kisne", "kisi", "kisko", "jaa", "aaja", "chal", "ruk", "kal", "ne", "ye", "yahan", "wahan", "warna", "itni", "itna", "kitna", "kitni", "aukaat", "reh", "raho",
        "tabhi", "wahin", "yehi", "yahi", "dalo", "karke", "bech", "aaye", "aayi", "aaya", "jaane", "jana", "jaana", "aana", "dena", "lena", "kab",
        "ke", "ki", "ka", "ko",     ];

    // Common in Hinglish but also words of other languages ("me", "are", "ja", "par"): half a hit each.
    static readonly HashSet<string> SharedWords = ["hi", "do", "de", "se", "mein", "woh", "wo", "andar", "pata", "jab", "bata", "beta", "tune", "fir", "me", "mai", "main", "ho", "na", "ya", "par", "pe", "bas", "din", "mat", "log", "tab", "jo", "h", "sun", "aa", "ja", "are"];

    /// <summary>Latin script, at least one word from the first list, and hits (shared words half) making two and a fifth of all words.</summary>
    static bool IsRomanisedHindi(string text)
    {
        if (!text.Any(char.IsAsciiLetter) || text.Any(c => c is >= '\u0900' and <= '\u097F')) return false;
        var words = text.ToLowerInvariant().Split([' ', ',', '.', '!', '?', ';', ':', '"', '\'', '\n', '\t', '(', ')'], StringSplitOptions.RemoveEmptyEntries);
        var strong = words.Count(HinglishWords.Contains);
        var hits = strong + words.Count(SharedWords.Contains) / 2.0;
        return strong >= 1 && hits >= 2 && hits * 5 >= words.Length;
    }
}
