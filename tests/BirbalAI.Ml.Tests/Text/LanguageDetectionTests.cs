using BirbalAI.Ml.Text;

namespace BirbalAI.Ml.Tests.Text;

public sealed class LanguageDetectionTests
{
    static readonly LanguageDetection Detector = new();

    [Theory]
    [InlineData("the weather is lovely today and we are going to the park", "en")]
    [InlineData("hoy hace muy buen tiempo y vamos a ir al parque con los niños", "es")]
    [InlineData("heute ist das Wetter schön und wir gehen mit den Kindern in den Park", "de")]
    [InlineData("il fait très beau aujourd'hui et nous allons au parc avec les enfants", "fr")]
    [InlineData("hoje o tempo está lindo e nós vamos ao parque com as crianças", "pt")]
    [InlineData("आज मौसम बहुत अच्छा है और हम बच्चों के साथ पार्क जा रहे हैं", "hi")]
    [InlineData("الطقس جميل اليوم وسنذهب إلى الحديقة مع الأطفال", "ar")]
    [InlineData("aaj mausam bahut accha hai yaar, hum park ja rahe hain", "hi-Latn")]
    public void Supported_languages_are_recognised(string text, string code) => Assert.Equal(code, Detector.Detect(text));

    [Theory]
    [InlineData("Hello")]
    [InlineData("ok lol")]
    [InlineData("12345 67890 !!!")]
    public void Too_short_to_tell_is_undetermined(string text) => Assert.Equal(LanguageDetection.Undetermined, Detector.Detect(text));
}
