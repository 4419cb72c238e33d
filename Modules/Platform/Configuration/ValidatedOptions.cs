using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace BirbalAI.Platform.Configuration;

public static class ValidatedOptions
{
    /// <summary>
    /// Binds <typeparamref name="T"/> to <paramref name="section"/> and validates its data annotations at
    /// start-up. Failures name the setting as it is written in configuration ("Database:ConnectionString"),
    /// so a wrong deployment stops with one line that says what to fix.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new AnnotationValidator<T>(section));
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>Binds and validates immediately, for settings needed while the host is being composed.</summary>
    public static T GetValidated<T>(this IConfiguration configuration, string section) where T : class, new()
    {
        var options = configuration.GetSection(section).Get<T>() ?? new T();
        var result = new AnnotationValidator<T>(section).Validate(null, options);
        if (result.Failed) throw new OptionsValidationException(section, typeof(T), result.Failures);
        return options;
    }

    sealed class AnnotationValidator<T>(string section) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var results = new List<ValidationResult>();
            Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
            if (results.Count == 0) return ValidateOptionsResult.Success;
            return ValidateOptionsResult.Fail(results.Select(r =>
                $"{string.Join(", ", r.MemberNames.Select(m => $"{section}:{m}").DefaultIfEmpty(section))}: {r.ErrorMessage}"));
        }
    }
}
