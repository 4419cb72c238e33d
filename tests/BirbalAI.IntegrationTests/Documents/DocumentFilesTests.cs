using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using BirbalAI.Documents;
using BirbalAI.Documents.Processing;
using BirbalAI.Documents.Uploads;
using BirbalAI.Platform.Configuration;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Wordprocessing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BirbalAI.IntegrationTests.Documents;

/// <summary>What Documents reads from a file, without the app: types from bytes, text per type, refusals, chunks, sealing.</summary>
public sealed class DocumentFilesTests
{
    static Extraction Extraction(DocumentsOptions? options = null) => new(Options.Create(options ?? new DocumentsOptions()));

    internal static byte[] Docx(params string[] paragraphs)
    {
        using var stream = new MemoryStream();
        using (var word = WordprocessingDocument.Create(stream, WordprocessingDocumentType.Document))
        {
            var main = word.AddMainDocumentPart();
            main.Document = new Document(new Body(paragraphs.Select(p => new Paragraph(new Run(new Text(p))))));
        }
        return stream.ToArray();
    }

    internal static byte[] Pdf(params string[] lines)
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        var font = builder.AddStandard14Font(UglyToad.PdfPig.Fonts.Standard14Fonts.Standard14Font.Helvetica);
        var page = builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        var y = 700;
        foreach (var line in lines)
        {
            page.AddText(line, 12, new UglyToad.PdfPig.Core.PdfPoint(50, y), font);
            y -= 20;
        }
        return builder.Build();
    }

    /// <summary>
    /// A one-page PDF with an /Encrypt dictionary in its trailer (the standard handler, RC4 40-bit, revision 2), written byte
    /// by byte. With <paramref name="emptyUserPassword"/> its /U entry is the one an empty user password gives, so a reader
    /// opens it without asking (as most "protected" PDFs are: printing or copying forbidden); otherwise /U matches no password
    /// a reader could try.
    /// </summary>
    internal static byte[] EncryptedPdf(bool emptyUserPassword)
    {
        byte[] padding = [0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41, 0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
            0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80, 0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A];
        var owner = SHA256.HashData("owner password"u8);
        var id = MD5.HashData("birbal encrypted fixture"u8);
        const int permissions = -44;   // no printing, no copying
        var key = MD5.HashData([.. padding, .. owner, .. BitConverter.GetBytes(permissions), .. id])[..5];
        var user = emptyUserPassword ? Rc4(key, padding) : SHA256.HashData("no password opens this"u8);
        static string Hex(byte[] bytes) => Convert.ToHexString(bytes);
        string[] objects =
        [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
            $"<< /Filter /Standard /V 1 /R 2 /Length 40 /O <{Hex(owner)}> /U <{Hex(user)}> /P {permissions} >>",
        ];
        var pdf = new StringBuilder("%PDF-1.4\n");
        var offsets = new List<int>();
        for (var i = 0; i < objects.Length; i++)
        {
            offsets.Add(pdf.Length);
            pdf.Append($"{i + 1} 0 obj\n{objects[i]}\nendobj\n");
        }
        var xref = pdf.Length;
        pdf.Append($"xref\n0 {objects.Length + 1}\n0000000000 65535 f \n");
        foreach (var offset in offsets) pdf.Append($"{offset:D10} 00000 n \n");
        pdf.Append($"trailer\n<< /Size {objects.Length + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<{Hex(id)}> <{Hex(id)}>] >>\nstartxref\n{xref}\n%%EOF\n");
        return Encoding.ASCII.GetBytes(pdf.ToString());
    }

    static byte[] Rc4(byte[] key, byte[] data)
    {
        var s = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        for (int i = 0, j = 0; i < 256; i++)
        {
            j = (j + s[i] + key[i % key.Length]) & 255;
            (s[i], s[j]) = (s[j], s[i]);
        }
        var output = new byte[data.Length];
        for (int n = 0, i = 0, j = 0; n < data.Length; n++)
        {
            i = (i + 1) & 255;
            j = (j + s[i]) & 255;
            (s[i], s[j]) = (s[j], s[i]);
            output[n] = (byte)(data[n] ^ s[(s[i] + s[j]) & 255]);
        }
        return output;
    }

    [Fact]
    public void An_encrypted_pdf_is_refused_as_encrypted_whether_or_not_it_opens_without_a_password()
    {
        foreach (var emptyUserPassword in new[] { true, false })
        {
            var refused = Assert.Throws<RefusedFileException>(() => Extraction().Extract(EncryptedPdf(emptyUserPassword)));
            Assert.Equal(422, refused.Status);
            Assert.Contains("The PDF is encrypted", refused.Message);
        }
    }

    [Fact]
    public void The_type_comes_from_the_bytes_never_the_name()
    {
        Assert.Equal("pdf", FileSniffer.Sniff(Pdf("hello"), out _));
        Assert.Equal("zip", FileSniffer.Sniff(Docx("hello"), out _));
        Assert.Equal("html", FileSniffer.Sniff("<!DOCTYPE html><html><body><p>hi</p></body></html>"u8, out _));
        Assert.Equal("markdown", FileSniffer.Sniff("# Notes\n\nSome **bold** words and a [link](https://example.org)."u8, out _));
        Assert.Equal("text", FileSniffer.Sniff("Plain words.\n\nAnother paragraph."u8, out _));
        Assert.Null(FileSniffer.Sniff([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0], out _));   // a PNG
        Assert.Null(FileSniffer.Sniff([0xC3, 0x28, 0x41], out _));                                          // not UTF-8
    }

    [Fact]
    public void Each_type_gives_its_text_in_paragraphs_and_html_loses_its_scripts()
    {
        var extraction = Extraction();
        Assert.Equal("First line.\n\nSecond paragraph.", extraction.Extract("First   line.\r\n\r\n\r\nSecond paragraph.\n"u8.ToArray()).Text);
        Assert.Equal("Notes\n\nSome bold words.", extraction.Extract("# Notes\n\nSome **bold** words."u8.ToArray()).Text);
        var html = extraction.Extract("<html><head><script>steal()</script><style>p{}</style></head><body><h1>Title</h1><p onclick=\"x()\">One &amp; two</p><div>Three</div></body></html>"u8.ToArray());
        Assert.Equal(("html", "Title\n\nOne & two\n\nThree"), (html.Type, html.Text));
        var docx = extraction.Extract(Docx("Alpha paragraph.", "Beta paragraph."));
        Assert.Equal(("docx", "Alpha paragraph.\n\nBeta paragraph."), (docx.Type, docx.Text));
        var pdf = extraction.Extract(Pdf("Gamma line"));
        Assert.Equal(("pdf", 1), (pdf.Type, pdf.Pages));
        Assert.Contains("Gamma line", pdf.Text);
    }

    [Fact]
    public void A_pdf_without_text_is_taken_and_marked()
    {
        var empty = Extraction().Extract(Pdf());
        Assert.Equal(("", "no extractable text"), (empty.Text, empty.Note));
    }

    [Fact]
    public void Corrupt_bomb_like_oversize_and_unwanted_files_are_refused_naming_the_setting()
    {
        var corrupt = Assert.Throws<RefusedFileException>(() => Extraction().Extract("%PDF-1.7\nthis is not a pdf at all"u8.ToArray()));
        Assert.Equal(422, corrupt.Status);

        using var bomb = new MemoryStream();
        using (var zip = new ZipArchive(bomb, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("word/document.xml", CompressionLevel.SmallestSize).Open();
            entry.Write(new byte[20 * 1024 * 1024]);
        }
        var refused = Assert.Throws<RefusedFileException>(() => Extraction().Extract(bomb.ToArray()));
        Assert.Equal(422, refused.Status);
        Assert.Contains("Documents:MaxDecompressionRatio", refused.Message);

        var pages = Assert.Throws<RefusedFileException>(() => Extraction(new DocumentsOptions { MaxPages = 1 }).Extract(TwoPagePdf()));
        Assert.Contains("Documents:MaxPages", pages.Message);

        var type = Assert.Throws<RefusedFileException>(() => Extraction(new DocumentsOptions { AllowedTypes = ["pdf"] }).Extract("just text"u8.ToArray()));
        Assert.Equal(415, type.Status);
        Assert.Contains("Documents:AllowedTypes", type.Message);
        Assert.Equal(415, Assert.Throws<RefusedFileException>(() => Extraction().Extract([0x7F, 0x45, 0x4C, 0x46, 0, 1])).Status);   // an ELF binary
    }

    static byte[] TwoPagePdf()
    {
        var builder = new UglyToad.PdfPig.Writer.PdfDocumentBuilder();
        builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        builder.AddPage(UglyToad.PdfPig.Content.PageSize.A4);
        return builder.Build();
    }

    [Fact]
    public void Chunks_follow_paragraphs_then_sentences_and_point_back_into_the_text()
    {
        var text = "Short one.\n\n" + string.Join(" ", Enumerable.Range(1, 30).Select(i => $"Sentence number {i} is here.")) + "\n\nLast.";
        var chunks = Chunker.Split(text, 120);

        Assert.Equal("Short one.", chunks[0].Text);
        Assert.Equal("Last.", chunks[^1].Text);
        Assert.All(chunks, c => Assert.True(c.Text.Length <= 120));
        Assert.All(chunks, c => Assert.Equal(c.Text, text.Substring(c.Start, c.Length)));
        Assert.All(chunks.Skip(1).SkipLast(1), c => Assert.EndsWith(".", c.Text));    // cut at sentence ends
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Ordinal));
        var unbroken = Chunker.Split(new string('x', 250), 100);
        Assert.Equal([100, 100, 50], unbroken.Select(c => c.Length));
    }

    [Fact]
    public void Sealed_content_opens_under_its_key_after_a_rotation_and_not_when_tampered_with()
    {
        var old = new ContentEncryption(Options.Create(new SecretsOptions { EncryptionKey = "the-old-key-0123456789abcdef0123456789" }));
        var sealedText = old.SealText("private words");
        Assert.DoesNotContain("private", sealedText);
        var rotated = new ContentEncryption(Options.Create(new SecretsOptions
        {
            EncryptionKey = "the-new-key-0123456789abcdef0123456789", PreviousEncryptionKeys = ["the-old-key-0123456789abcdef0123456789"],
        }));
        Assert.NotEqual(old.CurrentKeyId, rotated.CurrentKeyId);
        Assert.Equal(old.CurrentKeyId, ContentEncryption.KeyIdOf(sealedText));
        Assert.Equal("private words", rotated.OpenText(sealedText));

        var forgotten = new ContentEncryption(Options.Create(new SecretsOptions { EncryptionKey = "the-new-key-0123456789abcdef0123456789" }));
        Assert.Contains("Secrets:PreviousEncryptionKeys", Assert.ThrowsAny<CryptographicException>(() => forgotten.OpenText(sealedText)).Message);
        var bytes = Convert.FromBase64String(sealedText.Split(':')[1]);
        bytes[^1] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => old.Open($"{old.CurrentKeyId}:{Convert.ToBase64String(bytes)}"));
    }

    [Fact]
    public void The_data_protection_key_ring_still_opens_after_the_encryption_key_rotated()
    {
        const string old = "the-old-key-0123456789abcdef0123456789", next = "the-new-key-0123456789abcdef0123456789";
        var plain = Encoding.UTF8.GetBytes("<key id=\"1\" />");
        var sealedBytes = new byte[28 + plain.Length];
        RandomNumberGenerator.Fill(sealedBytes.AsSpan(0, 12));
        using (var aes = new AesGcm(BirbalAI.Platform.Web.DataProtectionKeys.DeriveKey(old), 16))
            aes.Encrypt(sealedBytes.AsSpan(0, 12), plain, sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16));
        var element = new System.Xml.Linq.XElement("encryptedKey", new System.Xml.Linq.XElement("value", Convert.ToBase64String(sealedBytes)));
        BirbalAI.Platform.Web.SecretKeyXmlDecryptor Decryptor(SecretsOptions secrets) =>
            new(new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddSingleton(Options.Create(secrets)).BuildServiceProvider());

        Assert.Equal("1", Decryptor(new SecretsOptions { EncryptionKey = next, PreviousEncryptionKeys = [old] }).Decrypt(element).Attribute("id")?.Value);
        Assert.ThrowsAny<CryptographicException>(() => Decryptor(new SecretsOptions { EncryptionKey = next }).Decrypt(element));
    }
}
