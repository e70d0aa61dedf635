using LossLab.Data;
using LossLab.Tests.TestKit;

namespace LossLab.Tests.Data;

public sealed class CsvLoaderTests
{
    private static Dataset Parse(string text, CsvOptions? options = null) => CsvLoader.Parse(new StringReader(text), options, "test.csv", out _);

    [Fact]
    public void The_shipped_data_sets_load_with_their_tasks_and_shapes()
    {
        var expected = new Dictionary<string, (int Rows, int Columns, TaskKind Task, int Classes)>
        {
            ["iris"] = (150, 4, TaskKind.Multiclass, 3), ["wine"] = (178, 13, TaskKind.Multiclass, 3),
            ["breast_cancer"] = (569, 30, TaskKind.Binary, 2), ["diabetes"] = (442, 10, TaskKind.Regression, 0),
            ["digits"] = (1797, 64, TaskKind.Multiclass, 10),
        };
        foreach (var (name, e) in expected)
        {
            Dataset d = Datasets.Load(name);
            Assert.Equal((e.Rows, e.Columns, e.Task, e.Classes), (d.Rows, d.Columns, d.Task, d.Classes));
        }
        Assert.Equal([50, 50, 50], Datasets.Load("iris").ClassCounts());
    }

    [Fact]
    public void Ordinal_targets_are_classes_in_numeric_order_and_must_be_numbers()
    {
        Dataset d = Parse("x,stars\n1,10\n2,2\n3,5\n4,2\n", new CsvOptions { Task = TaskKind.Ordinal });
        Assert.Equal(TaskKind.Ordinal, d.Task);
        Assert.Equal(["2", "5", "10"], d.ClassNames);   // numerically, not "10" < "2"
        Assert.Equal([2.0, 0, 1, 0], d.Targets);
        Assert.Null(d.BinEdges);
        var e = Assert.Throws<DataFormatException>(() => Parse("x,grade\n1,low\n2,high\n", new CsvOptions { Task = TaskKind.Ordinal }));
        Assert.Contains("line 2, column 'grade': 'low' is not a number", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bins_cut_a_numeric_target_at_its_quantiles_into_ordered_classes_named_by_their_edges()
    {
        // Ten values 1..10 in four bins: edges at the 3rd, 5th and 8th smallest (⌈k·n/K⌉-th), class k = (e_{k−1}, e_k].
        string csv = "x,y\n" + string.Concat(Enumerable.Range(1, 10).Select(v => $"{v},{v}\n"));
        Dataset d = Parse(csv, new CsvOptions { Bins = 4 });
        Assert.Equal(TaskKind.Ordinal, d.Task);
        Assert.Equal([3.0, 5, 8], d.BinEdges);
        Assert.Equal(["y<=3", "3<y<=5", "5<y<=8", "y>8"], d.ClassNames);
        Assert.Equal([0.0, 0, 0, 1, 1, 2, 2, 2, 3, 3], d.Targets);
        // Ties merge edges: a target of three values cannot make five classes.
        Dataset ties = Parse("x,y\n1,1\n2,1\n3,1\n4,2\n5,3\n6,3\n", new CsvOptions { Bins = 5 });
        Assert.Equal([1.0, 2], ties.BinEdges);
        Assert.Equal(3, ties.Classes);
        // A model's edges cut new data the same way, whatever its own spread; a subset keeps the edges.
        Dataset other = Parse("x,y\n1,0.5\n2,4\n3,100\n", new CsvOptions { BinEdges = [3.0, 5, 8] });
        Assert.Equal([0.0, 1, 3], other.Targets);
        Assert.Equal(d.ClassNames, other.ClassNames);
        Assert.Equal(d.BinEdges, d.Subset([0, 1]).BinEdges);
        Assert.Contains("one value only", Assert.Throws<DataFormatException>(() => Parse("x,y\n1,4\n2,4\n", new CsvOptions { Bins = 3 })).Message, StringComparison.Ordinal);
        Assert.Contains("'abc' is not a number", Assert.Throws<DataFormatException>(() => Parse("x,y\n1,4\n2,abc\n", new CsvOptions { Bins = 2 })).Message, StringComparison.Ordinal);
        Assert.Contains("must increase", Assert.Throws<DataFormatException>(() => Parse(csv, new CsvOptions { BinEdges = [3.0, 3] })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Categorical_columns_are_one_hot_encoded_and_string_targets_become_classes()
    {
        var d = CsvLoader.Parse(new StringReader("size,color,label\n1.5,red,yes\n2,blue,no\n3,red,yes\n4,\"gr,een\",no\n"), null, "t.csv", out CsvReport report);
        Assert.Equal(["size", "color=blue", "color=gr,een", "color=red"], d.FeatureNames);
        Assert.Equal([1.5, 0, 0, 1], d.Row(0).ToArray());
        Assert.Equal(TaskKind.Binary, d.Task);
        Assert.Equal(["no", "yes"], d.ClassNames);
        Assert.Equal([1.0, 0, 1, 0], d.Targets);
        Assert.Equal(["color"], report.EncodedColumns);
    }

    [Fact]
    public void A_bad_cell_names_its_line_and_column_and_missing_values_are_reported_or_dropped()
    {
        var bad = Assert.Throws<DataFormatException>(() => Parse("a,b,target\n1,2,0\n3,oops,1\n5,6,0\n7,8,1\n"));
        Assert.Contains("line 3, column 'b': 'oops' is not a number", bad.Message);
        var missing = Assert.Throws<DataFormatException>(() => Parse("a,b,target\n1,,0\n3,4,1\n"));
        Assert.Contains("line 2, column 'b'", missing.Message);
        Assert.Contains("--drop-missing", missing.Message);
        var d = CsvLoader.Parse(new StringReader("a,b,target\n1,,0\n3,4,1\n5,6,0\n"), new CsvOptions { DropMissing = true }, "t.csv", out CsvReport report);
        Assert.Equal(2, d.Rows);
        Assert.Equal(1, report.RowsDropped);
        Assert.Contains("has 2 fields but the header has 3", Assert.Throws<DataFormatException>(() => Parse("a,b,target\n1,2\n")).Message);
        Assert.Contains("empty", Assert.Throws<DataFormatException>(() => Parse("")).Message);
        Assert.Contains("no column 'y'", Assert.Throws<DataFormatException>(() => Parse("a,target\n1,2\n", new CsvOptions { TargetColumn = "y" })).Message);
        Assert.Contains("appears twice", Assert.Throws<DataFormatException>(() => Parse("a,a,target\n1,2,3\n")).Message);
    }

    [Fact]
    public void A_named_target_column_is_used_and_the_task_can_be_forced()
    {
        var d = Parse("y,a,b\n1,2,3\n4,5,6\n7,8,9\n", new CsvOptions { TargetColumn = "y", Task = TaskKind.Regression });
        Assert.Equal(["a", "b"], d.FeatureNames);
        Assert.Equal([1.0, 4, 7], d.Targets);
        Assert.Equal(TaskKind.Regression, d.Task);
    }

    [Fact]
    public void A_models_schema_reads_columns_by_name_one_hot_from_training_categories_and_classes_by_name()
    {
        Dataset train = Parse("x,color,y\n1,red,a\n2,blue,b\n3,green,c\n4,red,a\n");
        Assert.Equal(["x", "color=blue", "color=green", "color=red"], train.FeatureNames);
        var schema = new CsvOptions { Task = TaskKind.Multiclass, FeatureNames = train.FeatureNames, ClassNames = train.ClassNames };
        // Columns in another order, one category and one class only: same features, same class indices.
        Dataset d = Parse("color,y,x\nred,c,5\nred,c,6\n", schema with { TargetColumn = "y" });
        Assert.Equal(train.FeatureNames, d.FeatureNames);
        Assert.Equal([5.0, 0, 0, 1, 6, 0, 0, 1], d.Features);
        Assert.Equal([2.0, 2], d.Targets);
        Assert.Equal(3, d.Classes);

        var unseenClass = Assert.Throws<DataFormatException>(() => Parse("x,color,y\n1,red,a\n2,red,z\n", schema));
        Assert.Contains("line 3, column 'y': 'z' is not one of the model's classes (a, b, c)", unseenClass.Message);
        var unseenCategory = Assert.Throws<DataFormatException>(() => Parse("x,color,y\n1,pink,a\n", schema));
        Assert.Contains("line 2, column 'color': category 'pink' was not seen in training (known: blue, green, red)", unseenCategory.Message);
        var missing = Assert.Throws<DataFormatException>(() => Parse("color,y\nred,a\n", schema));
        Assert.Contains("no column 'x'; the model was trained on x, color=blue", missing.Message);
        var text = Assert.Throws<DataFormatException>(() => Parse("x,color,y\nabc,red,a\ndef,red,a\n", schema));
        Assert.Contains("column 'x' holds text", text.Message);

        // Numeric classes match numerically: "1.0" is class "1".
        Dataset numbers = Parse("a,t\n1,0\n2,1\n3,0\n4,1\n");
        Dataset floats = Parse("a,t\n5,1.0\n", new CsvOptions { Task = TaskKind.Binary, FeatureNames = numbers.FeatureNames, ClassNames = numbers.ClassNames });
        Assert.Equal([1.0], floats.Targets);
    }

    [Fact]
    public void Small_data_gets_a_row_in_every_split_it_asks_for_or_a_clear_error()
    {
        // 2 rows per class × 0.2 rounds to 0 test rows: the split takes one training row instead of being empty.
        Dataset four = Parse("a,b,target\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
        Split s = Splitter.Stratified(four, 0.2, 0.1, seed: 0);
        Assert.Single(s.Test);
        Assert.Single(s.Validation);
        Assert.Equal(2, s.Train.Count);
        Assert.Equal([0, 1, 2, 3], s.Train.Concat(s.Validation).Concat(s.Test).Order());
        // A fraction of 0 stays empty.
        Assert.Empty(Splitter.Stratified(four, 0, 0, seed: 0).Test);
        // Too few rows to train on after holding out both: an error that says so.
        Dataset two = Parse("a,b,target\n1,2,0\n3,4,1\n");
        var e = Assert.Throws<ArgumentException>(() => Splitter.Stratified(two, 0.2, 0.1, seed: 0));
        Assert.Contains("2 rows are too few", e.Message);
    }

    [Fact]
    public void Stratified_splits_keep_class_balance_and_standardization_uses_training_rows_only()
    {
        Dataset d = Datasets.Load("breast_cancer");
        Split s = Splitter.Stratified(d, 0.2, 0.1, seed: 3);
        Assert.Equal(d.Rows, s.Train.Count + s.Validation.Count + s.Test.Count);
        Assert.Empty(s.Train.Intersect(s.Test));
        double share = s.Test.Count(i => d.Targets[i] == 0) / (double)s.Test.Count;
        Assert.InRange(share, 0.36, 0.39);   // 212/569 = 0.3726 overall
        Assert.Equal(s.Test, Splitter.Stratified(d, 0.2, 0.1, seed: 3).Test);
        Dataset train = d.Subset(s.Train);
        Standardizer z = Standardizer.Fit(train);
        Dataset scaled = z.Transform(train);
        for (int j = 0; j < d.Columns; j++)
        {
            double mean = Enumerable.Range(0, scaled.Rows).Average(i => scaled.Features[i * d.Columns + j]);
            T.Close(0, mean, abs: 1e-12);
        }
        Assert.NotEqual(z, Standardizer.Fit(d.Subset(s.Test)));
    }

    [Fact]
    public void Batches_cover_every_row_once_per_epoch_in_a_seeded_order()
    {
        var a = new BatchLoader(10, 4, seed: 5);
        var b = new BatchLoader(10, 4, seed: 5);
        int[][] first = [.. a.Epoch()], second = [.. a.Epoch()];
        Assert.Equal([4, 4, 2], first.Select(x => x.Length));
        Assert.Equal(Enumerable.Range(0, 10), first.SelectMany(x => x).Order());
        Assert.NotEqual(first.SelectMany(x => x), second.SelectMany(x => x));
        Assert.Equal(first.SelectMany(x => x), b.Epoch().SelectMany(x => x));
    }
}
