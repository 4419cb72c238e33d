using BirbalAI.Contracts.Identity;
using BirbalAI.Identity.Users;
using Microsoft.Extensions.Options;

namespace BirbalAI.Identity.Tests.Users;

/// <summary>The input rules every page, API call and CLI verb of Identity shares.</summary>
public sealed class InputRulesTests
{
    [Theory]
    [InlineData(" Someone@Example.ORG ", "someone@example.org")]
    [InlineData("first.last+tag@sub.example.org", "first.last+tag@sub.example.org")]
    public void Emails_are_trimmed_and_lower_cased(string email, string expected) =>
        Assert.Equal(expected, UserAdministration.ValidEmail(email));

    [Theory]
    [InlineData("")]
    [InlineData("no-at-sign.example.org")]
    [InlineData("two@@example.org")]
    [InlineData("Name <name@example.org>")]
    [InlineData("name@localhost")]
    [InlineData("line\nbreak@example.org")]
    public void Bad_emails_are_refused(string email) =>
        Assert.Throws<IdentityRuleException>(() => UserAdministration.ValidEmail(email));

    [Fact]
    public void An_email_over_254_characters_is_refused() =>
        Assert.Equal("Email: at most 254 characters.",
            Assert.Throws<IdentityRuleException>(() => UserAdministration.ValidEmail(new string('a', 250) + "@example.org")).Message);

    [Theory]
    [InlineData("Zoë", "Zoë")]
    [InlineData("  padded  ", "padded")]
    [InlineData("Zoe\u0308", "Zoë")]                      // decomposed → composed (NFC)
    [InlineData("דנה 👩🏽‍🚀", "דנה 👩🏽‍🚀")]
    public void Names_are_trimmed_and_normalised_but_otherwise_kept(string name, string expected) =>
        Assert.Equal(expected, UserAdministration.ValidName(name, "Name"));

    [Theory]
    [InlineData("tab\tinside", "Name: contains control characters or broken Unicode.")]
    [InlineData("nul\0inside", "Name: contains control characters or broken Unicode.")]
    [InlineData("line\u2028separator", "Name: contains control characters or broken Unicode.")]
    [InlineData("   ", "Name: required.")]
    public void Odd_names_are_refused_with_what_is_wrong(string name, string message) =>
        Assert.Equal(message, Assert.Throws<IdentityRuleException>(() => UserAdministration.ValidName(name, "Name")).Message);

    [Fact]
    public void Broken_UTF16_is_refused()
    {
        // Built here, not as theory data: test runners replace lone surrogates when they serialise data.
        foreach (var broken in new[] { "lone " + (char)0xD800 + " high", "lone " + (char)0xDC00 + " low", "ends high " + (char)0xDBFF })
            Assert.Equal("Name: contains control characters or broken Unicode.",
                Assert.Throws<IdentityRuleException>(() => UserAdministration.ValidName(broken, "Name")).Message);
    }

    [Fact]
    public void Length_counts_the_characters_people_see()
    {
        var flags = string.Concat(Enumerable.Repeat("🇳🇵", 100));   // 100 characters, 400 UTF-16 units

        Assert.Equal(flags, UserAdministration.ValidName(flags, "Name"));
        Assert.Throws<IdentityRuleException>(() => UserAdministration.ValidName(flags + "🇳🇵", "Name"));
        Assert.Throws<IdentityRuleException>(() => UserAdministration.ValidName(new string('é', 101), "Name"));
    }

    [Theory]
    [InlineData("member", Roles.Member)]
    [InlineData(" ADMIN ", Roles.Admin)]
    public void Roles_are_read_in_any_case(string role, string expected) => Assert.Equal(expected, UserAdministration.ValidRole(role));

    [Fact]
    public void An_unknown_role_names_the_choices() =>
        Assert.Equal("Role: choose Member, Annotator, Admin.", Assert.Throws<IdentityRuleException>(() => UserAdministration.ValidRole("Owner")).Message);

    [Theory]
    [InlineData(Roles.Admin, Roles.Member, Roles.Member)]
    [InlineData(Roles.Member, Roles.Admin, Roles.Member)]
    [InlineData(Roles.Annotator, Roles.Admin, Roles.Annotator)]
    [InlineData(Roles.Admin, Roles.Admin, Roles.Admin)]
    public void A_key_acts_with_the_lesser_role(string user, string cap, string expected) => Assert.Equal(expected, Roles.Min(user, cap));

    [Theory]
    [InlineData("short", "Password: at least 12 characters.")]
    [InlineData("a password\u0001with control", "Password: contains characters that cannot be typed reliably (control characters or broken Unicode).")]
    public void Weak_or_odd_passwords_are_refused(string password, string message)
    {
        var rules = new UserAdministration(null!, null!, null!, null!, Options.Create(new IdentityOptions { MinPasswordLength = 12 }), null!);

        Assert.Equal(message, Assert.Throws<IdentityRuleException>(() => rules.ValidPassword(password)).Message);
    }

    [Fact]
    public void A_password_over_256_characters_is_refused()
    {
        var rules = new UserAdministration(null!, null!, null!, null!, Options.Create(new IdentityOptions()), null!);

        Assert.Equal("Password: at most 256 characters.", Assert.Throws<IdentityRuleException>(() => rules.ValidPassword(new string('p', 257))).Message);
    }
}
