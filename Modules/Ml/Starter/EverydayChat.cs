namespace BirbalAI.Ml.Starter;

/// <summary>
/// Ordinary chat in every supported language — greetings, short replies, plans, questions, praise — written for
/// Birbal AI, so that the starter model learns what most messages in a community look like. Without it the
/// benign side was a handful of templates and short everyday messages ("ok", "see you later") scored as toxic.
/// Uses the slots of <see cref="StarterTexts"/>.
/// </summary>
static class EverydayChat
{
    public static readonly IReadOnlyDictionary<string, string[]> Templates = new Dictionary<string, string[]>
    {
        ["en"] =
        [
            "ok", "okay sure", "yes", "no worries", "thanks!", "thank you so much", "hi everyone", "hello {p}", "good morning all",
            "good night, see you tomorrow", "lol same", "haha that's funny", "nice one", "sounds good to me", "I agree with {p}",
            "what time do we meet at {pl}", "can someone help me with {t}", "how was {a} today", "I'm going to {pl} later, anyone coming",
            "happy birthday {p}!", "congrats on the new job", "the photo from {pl} looks great", "where did you buy {t}",
            "I just finished {a}, feeling good", "running late, be there in ten minutes", "what do you think about {t}",
            "let's grab lunch near {pl}", "brb", "welcome to the group {p}", "good luck with the exam", "I love this community",
            "does {t} work for you now", "great question, I'm not sure", "see you later", "have a lovely day",
        ],
        ["es"] =
        [
            "vale", "sí claro", "gracias!", "muchas gracias", "hola a todos", "buenos días", "buenas noches, hasta mañana",
            "jaja qué bueno", "estoy de acuerdo con {p}", "a qué hora quedamos en {pl}", "alguien me ayuda con {t}",
            "feliz cumpleaños {p}!", "qué tal {a} hoy", "llego tarde, diez minutos", "bienvenido al grupo {p}", "nos vemos luego",
            "me encanta este grupo", "qué opinas de {t}",
        ],
        ["de"] =
        [
            "ok", "ja klar", "danke!", "vielen dank", "hallo zusammen", "guten Morgen", "gute Nacht, bis morgen", "haha wie lustig",
            "ich stimme {p} zu", "wann treffen wir uns {pl}", "kann mir jemand mit {t} helfen", "alles Gute zum Geburtstag {p}!",
            "wie war {a} heute", "bin spät dran, zehn Minuten", "willkommen in der Gruppe {p}", "bis später", "ich mag diese Gruppe",
            "was denkst du über {t}",
        ],
        ["fr"] =
        [
            "ok", "oui bien sûr", "merci !", "merci beaucoup", "salut tout le monde", "bonjour à tous", "bonne nuit, à demain",
            "haha trop drôle", "je suis d'accord avec {p}", "on se retrouve à quelle heure {pl}", "quelqu'un peut m'aider avec {t}",
            "joyeux anniversaire {p} !", "c'était comment {a} aujourd'hui", "j'ai dix minutes de retard", "bienvenue dans le groupe {p}",
            "à plus tard", "j'adore ce groupe", "tu penses quoi de {t}",
        ],
        ["pt"] =
        [
            "ok", "sim claro", "obrigado!", "muito obrigada", "oi pessoal", "bom dia a todos", "boa noite, até amanhã", "haha muito bom",
            "concordo com {p}", "que horas a gente se encontra {pl}", "alguém me ajuda com {t}", "feliz aniversário {p}!",
            "como foi {a} hoje", "vou me atrasar dez minutos", "bem-vindo ao grupo {p}", "até mais tarde", "adoro este grupo",
            "o que você acha de {t}",
        ],
        ["hi"] =
        [
            "ठीक है", "हाँ ज़रूर", "धन्यवाद!", "बहुत बहुत शुक्रिया", "सभी को नमस्ते", "सुप्रभात", "शुभ रात्रि, कल मिलते हैं", "हाहा बहुत मज़ेदार",
            "मैं {p} से सहमत हूँ", "हम {pl} कितने बजे मिलेंगे", "क्या कोई {t} में मदद कर सकता है", "जन्मदिन मुबारक हो {p}!",
            "आज {a} कैसा रहा", "दस मिनट देर से पहुँचूँगा", "ग्रुप में स्वागत है {p}", "बाद में मिलते हैं", "मुझे यह ग्रुप बहुत पसंद है",
        ],
        ["hi-Latn"] =
        [
            "theek hai yaar", "haan bilkul", "shukriya bhai", "sab ko namaste", "good morning sab ko", "shubh ratri, kal milte hain",
            "haha bahut mast hai", "main {p} se sahmat hoon", "hum {pl} kitne baje milenge", "koi {t} mein madad kar sakta hai kya",
            "happy birthday {p}, bahut saari badhai", "aaj {a} kaisa raha", "das minute late hoon yaar", "group mein swagat hai {p}",
            "baad mein milte hain", "mujhe yeh group bahut pasand hai",
        ],
        ["ar"] =
        [
            "حسنا", "نعم بالتأكيد", "شكرا!", "شكرا جزيلا", "مرحبا بالجميع", "صباح الخير", "تصبحون على خير، أراكم غدا", "هههه مضحك جدا",
            "أتفق مع {p}", "متى نلتقي في {pl}", "هل يستطيع أحد مساعدتي في {t}", "عيد ميلاد سعيد {p}!", "كيف كان {a} اليوم",
            "سأتأخر عشر دقائق", "أهلا بك في المجموعة {p}", "أراكم لاحقا", "أحب هذه المجموعة",
        ],
    };
}
