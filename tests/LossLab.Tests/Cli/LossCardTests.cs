using System.Text.Json;
using LossLab.Cli;
using LossLab.Cli.Commands;
using LossLab.Losses.Core;

namespace LossLab.Tests.Cli;

/// <summary><c>losslab losses NAME</c>: one loss's card, and an example request that runs as printed.</summary>
public sealed class LossCardTests
{
    private static (int Code, string Out, string Err) Run(string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(args, new CliConsole(new StringReader(stdin), output, error, false));
        return (code, output.ToString(), error.ToString());
    }

    // Their smallest samples (a vocabulary's clusters, a sequence's time steps, a group's completions) exceed what a
    // card prints; a loss joins this list by a decision, not by a sampler that stopped working.
    private static readonly string[] TooLongToPrint = ["AdaptiveLogSoftmaxWithLoss", "CtcLoss", "GrpoLoss", "KerasCtc", "OptaxCtcLoss", "SoftDtwLoss", "SoftTripleLoss"];

    [Fact]
    public void A_card_names_every_field_and_its_example_runs_as_printed()
    {
        var (code, card, error) = Run("", "losses", "CrossEntropyLoss");
        Assert.True(code == 0, error);
        foreach (string field in new[] { "names", "libraries", "formula", "inputs", "options", "gradient", "stability", "lower bound", "trains on", "reference", "example", "check" })
        {
            Assert.Contains($"  {field} ", card);
        }
        Assert.Contains("label_smoothing = 0", card);
        Assert.Contains("losslab train --loss cross_entropy", card);
        string example = card.Split('\n').Single(l => l.StartsWith("  example ", StringComparison.Ordinal));
        string request = example[(example.IndexOf('\'') + 1)..example.LastIndexOf('\'')];
        Assert.Contains("| losslab loss cross_entropy --json -", example);
        var (ran, answer, _) = Run(request, "loss", "cross_entropy", "--json", "-");
        Assert.Equal(0, ran);
        using JsonDocument doc = JsonDocument.Parse(answer);
        string printed = card.Split('\n').SkipWhile(l => !l.StartsWith("  example ", StringComparison.Ordinal)).ElementAt(1).Trim();
        Assert.Equal($"gives the loss {doc.RootElement.GetProperty("loss").GetRawText()} (default options; float32)", printed);
    }

    [Fact]
    public void Every_loss_has_a_card_and_all_but_the_long_ones_an_example_the_protocol_answers()
    {
        var missing = new List<string>();
        foreach (LossDescriptor d in LossRegistry.Default.Entries)
        {
            if (LossCard.Example(d, LossRegistry.Default) is not var (request, value))
            {
                missing.Add(d.Name);
                continue;
            }
            // A fresh run of the printed text, under the loss's name: the same value, and float tokens stay floats.
            var (code, answer, error) = Run(request, "loss", d.Name, "--json", "-");
            Assert.True(code == 0, $"{d.Name}: {error}{answer}");
            using JsonDocument doc = JsonDocument.Parse(answer);
            Assert.Equal(value, doc.RootElement.GetProperty("loss").GetRawText());
            Assert.True(LossCard.Render(d, LossRegistry.Default).Contains(request, StringComparison.Ordinal), d.Name);
        }
        Assert.Equal(TooLongToPrint, missing.Order());
    }

    [Fact]
    public void An_unknown_name_is_one_line_with_suggestions_and_a_name_does_not_go_with_search()
    {
        var (code, output, error) = Run("", "losses", "focal");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("unknown_loss: unknown loss 'focal'; did you mean focal_loss", error);
        Assert.DoesNotContain("   at ", error);
        var (both, _, why) = Run("", "losses", "mse", "--search", "dice");
        Assert.Equal(2, both);
        Assert.Contains("not both", why);
    }

    [Fact]
    public void A_name_with_json_gives_that_loss_alone_in_the_catalog_schema()
    {
        var (code, json, _) = Run("", "losses", "dice_loss", "--format", "json");
        Assert.Equal(0, code);
        using JsonDocument doc = JsonDocument.Parse(json);
        Assert.Equal(1, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(LossRegistry.Default.Get("dice_loss").Name, doc.RootElement.GetProperty("losses")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void A_name_with_markdown_gives_its_section_without_the_catalog_header()
    {
        var (code, md, _) = Run("", "losses", "huber_loss", "--format", "markdown");
        Assert.Equal(0, code);
        Assert.StartsWith("## Regression", md);
        Assert.DoesNotContain("# The loss catalog", md);
        Assert.Contains("| `HuberLoss` |", md);
        Assert.Contains("- **HuberLoss**: inputs", md);
    }

    [Fact]
    public void A_custom_formula_gets_a_card_with_a_quoted_name_and_a_generic_example()
    {
        var (code, card, error) = Run("", "losses", "expr:mean((input-target)**2)");
        Assert.True(code == 0, error);
        Assert.Contains("lower bound  not known: a custom formula's", card);
        // The shell would read the parentheses: the name is quoted wherever the card says to type it.
        Assert.Contains("| losslab loss 'expr:mean((input-target)**2)' --json -", card);
        Assert.Contains("losslab gradcheck 'expr:mean((input-target)**2)'", card);
        // (0.5, −1, 2) against its rotation (−1, 2, 0.5): mean of 2.25, 9, 2.25.
        Assert.Contains("gives the loss 4.5 ", card);
        // A formula of probabilities gets values in (0, 1) rather than a NaN example.
        var (_, logCard, _) = Run("", "losses", "expr:mean(log(input))");
        Assert.Contains("{\"inputs\": {\"input\": [0.5, 0.25, 0.75]}}", logCard);
        Assert.DoesNotContain("NaN", logCard);
    }
}
