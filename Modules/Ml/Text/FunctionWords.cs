namespace BirbalAI.Ml.Text;

/// <summary>
/// Words that carry grammar rather than meaning — articles, pronouns, auxiliaries, prepositions, conjunctions —
/// per supported language. An explanation leaves out a word or phrase made only of them: "you" and "your" raise a
/// harassment score (they come with insults), but a reviewer learns nothing from them. Scoring never looks here.
/// Lists are per language because a function word of one is a content word of another (German "die", English
/// "die"); text of undetermined language is explained without a list. Words are in normalised form (lower case).
/// </summary>
static class FunctionWords
{
    static readonly Dictionary<string, HashSet<string>> ByLanguage = new()
    {
        ["en"] =
        [
            "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for", "with", "from", "as", "into", "about",
            "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "have", "has", "had", "will", "would", "can",
            "could", "shall", "should", "may", "might", "must", "i", "me", "my", "mine", "you", "your", "yours", "u", "ur", "he", "him",
            "his", "she", "her", "hers", "it", "its", "we", "us", "our", "they", "them", "their", "this", "that", "these", "those",
            "there", "here", "so", "too", "very", "just", "then", "than", "also", "what", "who", "when", "where", "how", "which",
            "im", "i'm", "you're", "youre", "it's", "that's", "thats", "don't", "dont", "isn't", "up", "out", "all", "some",
        ],
        ["es"] =
        [
            "el", "la", "los", "las", "un", "una", "unos", "unas", "y", "e", "o", "u", "pero", "de", "del", "al", "a", "en", "con", "por",
            "para", "que", "es", "son", "eres", "soy", "está", "esta", "estás", "estas", "lo", "le", "les", "se", "me", "te", "mi", "mis",
            "tu", "tus", "su", "sus", "yo", "tú", "él", "ella", "nosotros", "ellos", "ellas", "usted", "este", "ese", "esa", "eso", "esto",
            "muy", "ya", "como", "más", "mas", "pues", "si", "sí",
        ],
        ["de"] =
        [
            "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "und", "oder", "aber", "zu", "in", "im",
            "an", "am", "auf", "mit", "von", "vom", "für", "bei", "ist", "bist", "bin", "sind", "seid", "war", "waren", "hat", "hast",
            "habe", "du", "dich", "dir", "dein", "deine", "deinen", "ich", "mich", "mir", "mein", "meine", "er", "sie", "es", "wir",
            "ihr", "uns", "euch", "so", "sehr", "auch", "noch", "wie", "was", "dass", "wenn", "ja", "doch", "mal",
        ],
        ["fr"] =
        [
            "le", "la", "les", "l'", "un", "une", "des", "du", "de", "d'", "et", "ou", "mais", "à", "au", "aux", "en", "dans", "sur",
            "avec", "pour", "par", "que", "qui", "est", "es", "suis", "sont", "tu", "te", "toi", "ton", "ta", "tes", "je", "j'", "me",
            "moi", "mon", "ma", "mes", "il", "elle", "on", "nous", "vous", "ils", "elles", "ce", "cet", "cette", "ces", "c'est", "ne",
            "très", "aussi", "comme", "y", "se", "son", "sa", "ses", "leur", "leurs",
        ],
        ["pt"] =
        [
            "o", "a", "os", "as", "um", "uma", "uns", "umas", "e", "ou", "mas", "de", "do", "da", "dos", "das", "em", "no", "na", "nos",
            "nas", "com", "por", "para", "pra", "que", "é", "és", "sou", "são", "está", "esta", "você", "voce", "vc", "tu", "te", "teu",
            "tua", "seu", "sua", "eu", "me", "meu", "minha", "ele", "ela", "nós", "eles", "elas", "isso", "isto", "esse", "essa", "este",
            "muito", "também", "como", "se", "lhe",
        ],
        ["hi-Latn"] =
        [
            "hai", "hain", "ka", "ki", "ke", "ko", "se", "mein", "main", "mai", "tum", "tu", "aap", "hum", "ye", "yeh", "wo", "woh",
            "aur", "bhi", "toh", "to", "tha", "thi", "the", "ho", "hu", "hoon", "ek", "par", "pe", "ne", "hi",
        ],
        ["hi"] =
        [
            "है", "हैं", "का", "की", "के", "को", "से", "में", "और", "भी", "तो", "यह", "ये", "वह", "वो", "मैं", "तुम", "तू", "आप", "हम",
            "था", "थी", "थे", "हो", "हूँ", "हूं", "पर", "ही", "एक", "ने",
        ],
        ["ar"] =
        [
            "في", "من", "على", "إلى", "الى", "عن", "مع", "و", "أو", "او", "ثم", "هذا", "هذه", "ذلك", "تلك", "هو", "هي", "أنت", "انت",
            "أنا", "انا", "نحن", "هم", "أن", "ان", "إن", "التي", "الذي", "كان", "كانت", "قد", "يا",
        ],
    };

    /// <summary>True when every word of <paramref name="ngram"/> is a function word of <paramref name="language"/>.</summary>
    public static bool Only(string ngram, string? language)
    {
        if (language is null || !ByLanguage.TryGetValue(language, out var words)) return false;
        foreach (var word in ngram.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            if (!words.Contains(word.Trim(Punctuation))) return false;
        return true;
    }

    static readonly char[] Punctuation = ['.', ',', '!', '?', ';', ':', '"', '\'', '(', ')', '¡', '¿', '«', '»', '،', '؟', '।'];
}
