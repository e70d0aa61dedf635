using LossLab.Cli.Commands;
using LossLab.Losses.Core;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Cli;

/// <summary>docs/losses.md is generated from the registry; this test keeps the file and the registry equal.</summary>
public sealed class CatalogDocTests
{
    [Fact]
    public void Docs_losses_md_is_the_generated_catalog()
    {
        string path = Path.Combine(SharedData.RepoRoot, "docs", "losses.md");
        string expected = LossesCommand.Markdown(LossRegistry.Default.Entries).ReplaceLineEndings("\n");
        Assert.True(File.Exists(path), "docs/losses.md is missing: dotnet run --project src/LossLab.Cli -- losses --format markdown > docs/losses.md");
        string actual = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(expected == actual, "docs/losses.md differs from the registry; regenerate it with: dotnet run --project src/LossLab.Cli -- losses --format markdown > docs/losses.md");
    }

    [Fact]
    public void Every_loss_has_its_row_with_formula_and_libraries()
    {
        string md = LossesCommand.Markdown(LossRegistry.Default.Entries);
        foreach (LossDescriptor d in LossRegistry.Default.Entries)
        {
            Assert.Contains($"| `{d.Name}` |", md);
            Assert.False(string.IsNullOrWhiteSpace(d.Formula), d.Name);
            Assert.False(string.IsNullOrWhiteSpace(d.Libraries), d.Name);
            Assert.False(string.IsNullOrWhiteSpace(d.Stability), d.Name);
        }
    }

    [Fact]
    public void Prose_that_counts_the_catalog_counts_it_right()
    {
        int count = LossRegistry.Default.Entries.Count;
        foreach (string doc in new[] { "README.md", Path.Combine("docs", "reliability.md") })
        {
            string text = File.ReadAllText(Path.Combine(SharedData.RepoRoot, doc)).ReplaceLineEndings(" ");
            var claims = System.Text.RegularExpressions.Regex.Matches(text, @"all (\d+)\s+catalog losses");
            Assert.NotEmpty(claims);
            Assert.All(claims, m => Assert.True(int.Parse(m.Groups[1].Value) == count, $"{doc} says '{m.Value}'; the registry has {count}"));
        }
    }
}
