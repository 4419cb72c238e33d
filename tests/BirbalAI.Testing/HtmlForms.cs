using AngleSharp.Dom;
using AngleSharp.Html.Dom;
using AngleSharp.Html.Parser;

namespace BirbalAI.Testing;

/// <summary>Reads pages and submits their forms the way a browser would (hidden fields and antiforgery token included).</summary>
public static class HtmlForms
{
    public static async Task<IHtmlDocument> GetDocumentAsync(this HttpClient client, string url)
    {
        var response = await client.GetAsync(url);
        return await ParseAsync(response);
    }

    public static async Task<IHtmlDocument> ParseAsync(HttpResponseMessage response)
    {
        var html = await response.Content.ReadAsStringAsync();
        var document = await new HtmlParser().ParseDocumentAsync(html);
        return document;
    }

    /// <summary>
    /// Submits the form matched by <paramref name="formSelector"/> with its current field values, overridden by
    /// <paramref name="values"/> (field name → value); <paramref name="submitter"/> selects a submit button whose
    /// name/value (and formaction) are sent.
    /// </summary>
    public static async Task<HttpResponseMessage> SubmitAsync(this HttpClient client, IHtmlDocument page, string formSelector,
        IReadOnlyDictionary<string, string>? values = null, string? submitter = null, string? pageUrl = null)
    {
        var form = page.QuerySelector<IHtmlFormElement>(formSelector)
            ?? throw new InvalidOperationException($"No form matches '{formSelector}'.");
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var element in form.Elements)
        {
            switch (element)
            {
                case IHtmlInputElement input when !string.IsNullOrEmpty(input.Name) && input.Type is not ("submit" or "button" or "image"):
                    if (input.Type is "checkbox" or "radio" && !input.IsChecked) break;
                    fields.Add(new(input.Name, input.Value));
                    break;
                case IHtmlTextAreaElement area when !string.IsNullOrEmpty(area.Name):
                    fields.Add(new(area.Name, area.Value));
                    break;
                case IHtmlSelectElement select when !string.IsNullOrEmpty(select.Name):
                    fields.Add(new(select.Name, select.Value ?? ""));
                    break;
            }
        }
        foreach (var (name, value) in values ?? new Dictionary<string, string>())
        {
            fields.RemoveAll(f => f.Key == name);
            fields.Add(new(name, value));
        }
        var action = form.GetAttribute("action");
        if (submitter is not null)
        {
            var button = form.QuerySelector<IHtmlElement>(submitter) ?? throw new InvalidOperationException($"No button matches '{submitter}'.");
            if (button.GetAttribute("name") is { } buttonName) fields.Add(new(buttonName, button.GetAttribute("value") ?? ""));
            action = button.GetAttribute("formaction") ?? action;
        }
        var target = string.IsNullOrEmpty(action) ? pageUrl ?? page.Url : action;
        return await client.PostAsync(target, new FormUrlEncodedContent(fields));
    }
}
