using System.Text.RegularExpressions;
using CalWebhookFunctions.Tests.Infrastructure;

namespace CalWebhookFunctions.Tests.Unit.Shipping;

/// <summary>What the README promises, read from its text: the test command and the configuration keys.</summary>
public static partial class Readme
{
    public static string Text => File.ReadAllText(RepoPaths.File("README.md"));

    /// <summary>The commands of the first code block under <c>## Run the tests</c>.</summary>
    public static IReadOnlyList<string> TestCommands()
    {
        var section = Section("Run the tests");
        var block = CodeBlock().Match(section);
        Assert.True(block.Success, "README's 'Run the tests' section has no code block.");
        return [.. block.Groups["body"].Value.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
    }

    /// <summary>The keys of the table under <c>## Configuration</c> (first column, in backticks).</summary>
    public static IReadOnlyList<string> ConfigurationKeys()
    {
        var keys = TableKey().Matches(Section("Configuration")).Select(m => m.Groups["key"].Value).ToList();
        Assert.NotEmpty(keys);
        return keys;
    }

    private static string Section(string heading)
    {
        var text = Text.Replace("\r\n", "\n", StringComparison.Ordinal);
        var start = text.IndexOf("\n## " + heading + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"README has no '## {heading}' section.");
        var end = text.IndexOf("\n## ", start + 4, StringComparison.Ordinal);
        return end < 0 ? text[start..] : text[start..end];
    }

    [GeneratedRegex(@"```(?:bash|sh|shell)?\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();

    [GeneratedRegex(@"^\| `(?<key>[A-Za-z]+(?:__[A-Za-z]+)?)` \|", RegexOptions.Multiline)]
    private static partial Regex TableKey();
}
