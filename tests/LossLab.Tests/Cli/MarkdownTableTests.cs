using System.Text.RegularExpressions;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Cli;

/// <summary>Every Markdown table in README.md and docs/ keeps its header's column count (an unescaped | in a cell, even in a code span, splits it).</summary>
public sealed partial class MarkdownTableTests
{
    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellSeparator();

    [Fact]
    public void Every_table_row_has_its_header_s_cells()
    {
        var files = new List<string> { Path.Combine(SharedData.RepoRoot, "README.md") };
        files.AddRange(Directory.GetFiles(Path.Combine(SharedData.RepoRoot, "docs"), "*.md"));
        var bad = new List<string>();
        foreach (string file in files)
        {
            string[] lines = File.ReadAllLines(file);
            int header = -1;
            bool inCode = false;
            for (int i = 0; i < lines.Length; i++)
            {
                string line = lines[i];
                if (line.StartsWith("```", StringComparison.Ordinal)) inCode = !inCode;
                if (inCode || !line.StartsWith('|'))
                {
                    header = -1;
                    continue;
                }
                // GitHub's tables split on every unescaped |, inside code spans too.
                int cells = CellSeparator().Split(line).Length;
                if (header < 0) header = cells;
                else if (cells != header) bad.Add($"{Path.GetFileName(file)}:{i + 1}: {cells - 2} cells, the header has {header - 2}");
            }
        }
        Assert.True(bad.Count == 0, string.Join("\n", bad.Take(10)));
    }
}
