using System.Globalization;
using System.Text;

namespace LossLab.Losses.Custom;

/// <summary>A node of a parsed loss expression; <see cref="Column"/> is 1-based, for error messages.</summary>
internal abstract record Expr(int Column);

internal sealed record NumberExpr(double Value, bool IsInteger, int Column) : Expr(Column);

internal sealed record StringExpr(string Value, int Column) : Expr(Column);

internal sealed record VariableExpr(string Name, int Column) : Expr(Column);

internal sealed record UnaryExpr(string Op, Expr Operand, int Column) : Expr(Column);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Column) : Expr(Column);

internal sealed record CallExpr(string Name, IReadOnlyList<Expr> Args, IReadOnlyList<KeyValuePair<string, Expr>> Keywords, int Column) : Expr(Column);

/// <summary>
/// Recursive-descent parser of the loss expression language. Precedence, lowest first:
/// comparisons (&lt; &lt;= &gt; &gt;= == !=), + −, * /, unary − +, ^ (or **, right-associative; −x^2 = −(x^2)),
/// then numbers, 'strings', names, calls f(a, b, key=value) and parentheses.
/// </summary>
internal sealed class ExpressionParser
{
    private readonly string _text;
    private readonly List<Token> _tokens;
    private int _pos;

    private ExpressionParser(string text)
    {
        _text = text;
        _tokens = Lex(text);
    }

    private readonly record struct Token(string Kind, string Text, int Column);

    public static Expr Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
        {
            throw new LossArgumentException(LossErrorCode.InvalidExpression, $"the expression has {text.Length} characters; at most {MaxLength} are accepted");
        }
        var p = new ExpressionParser(text);
        if (p.Peek.Kind == "end") throw p.Error("an expression", p.Peek);
        Expr e = p.Comparison();
        if (p.Peek.Kind != "end") throw p.Error("an operator or the end of the expression", p.Peek);
        return e;
    }

    private Token Peek => _tokens[_pos];

    private Token Next() => _tokens[_pos++];

    private bool Accept(string text)
    {
        if (Peek.Kind == "op" && Peek.Text == text)
        {
            _pos++;
            return true;
        }
        return false;
    }

    private void Expect(string text, Token opener)
    {
        if (Accept(text)) return;
        string what = opener.Text == "(" && text == ")" ? $"')' to close the '(' at column {opener.Column}" : $"'{text}'";
        throw Error(what, Peek);
    }

    private Expr Comparison()
    {
        Expr left = Additive();
        foreach (string op in new[] { "<=", ">=", "==", "!=", "<", ">" })
        {
            Token t = Peek;
            if (Accept(op)) return new BinaryExpr(op, left, Additive(), t.Column);
        }
        return left;
    }

    private Expr Additive()
    {
        Expr left = Multiplicative();
        while (true)
        {
            Token t = Peek;
            if (Accept("+")) left = new BinaryExpr("+", left, Multiplicative(), t.Column);
            else if (Accept("-")) left = new BinaryExpr("-", left, Multiplicative(), t.Column);
            else return left;
        }
    }

    private Expr Multiplicative()
    {
        Expr left = Unary();
        while (true)
        {
            Token t = Peek;
            if (Accept("*")) left = new BinaryExpr("*", left, Unary(), t.Column);
            else if (Accept("/")) left = new BinaryExpr("/", left, Unary(), t.Column);
            else return left;
        }
    }

    /// <summary>Nesting deeper than this (parentheses, calls, unary signs, powers) is refused before it can exhaust the stack.</summary>
    public const int MaxDepth = 200;

    /// <summary>Longer expressions are refused: a left-nested chain of n terms is a tree n deep for the evaluator.</summary>
    public const int MaxLength = 4096;

    private int _depth;

    private Expr Unary()
    {
        Token t = Peek;
        if (++_depth > MaxDepth) throw ErrorAt($"the expression nests deeper than {MaxDepth} levels", t.Column);
        try
        {
            if (Accept("-")) return new UnaryExpr("-", Unary(), t.Column);
            if (Accept("+")) return Unary();
            return Power();
        }
        finally
        {
            _depth--;
        }
    }

    private Expr Power()
    {
        Expr b = Primary();
        Token t = Peek;
        if (Accept("^") || Accept("**")) return new BinaryExpr("^", b, Unary(), t.Column);
        return b;
    }

    private Expr Primary()
    {
        Token t = Next();
        switch (t.Kind)
        {
            case "number":
                bool integer = t.Text.IndexOfAny(['.', 'e', 'E']) < 0;
                return new NumberExpr(double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture), integer, t.Column);
            case "string":
                return new StringExpr(t.Text, t.Column);
            case "name":
                if (!Accept("(")) return new VariableExpr(t.Text, t.Column);
                return Call(t);
            case "op" when t.Text == "(":
                Expr inner = Comparison();
                Expect(")", t);
                return inner;
            default:
                _pos--;
                throw Error("a number, a name, a function call or '('", t);
        }
    }

    private CallExpr Call(Token name)
    {
        Token open = _tokens[_pos - 1];
        var args = new List<Expr>();
        var keywords = new List<KeyValuePair<string, Expr>>();
        if (!Accept(")"))
        {
            do
            {
                if (Peek.Kind == "name" && _tokens[_pos + 1] is { Kind: "op", Text: "=" })
                {
                    Token key = Next();
                    _pos++;
                    if (keywords.Any(k => k.Key == key.Text)) throw Error($"a new argument name ('{key.Text}' is given twice)", key);
                    keywords.Add(new(key.Text, Comparison()));
                }
                else
                {
                    if (keywords.Count > 0) throw Error("a keyword argument (positional arguments come first)", Peek);
                    args.Add(Comparison());
                }
            }
            while (Accept(","));
            Expect(")", open);
        }
        return new CallExpr(name.Text, args, keywords, name.Column);
    }

    private LossArgumentException Error(string expected, Token found)
    {
        string what = found.Kind switch
        {
            "end" => "the end of the expression",
            "string" => $"the string '{found.Text}'",
            _ => $"'{found.Text}'",
        };
        return ErrorAt($"expected {expected}, found {what} at column {found.Column}", found.Column);
    }

    /// <summary>A message with the expression and a caret under the column.</summary>
    internal static string Caret(string text, int column) => $"\n  {text}\n  {new string(' ', Math.Max(0, column - 1))}^";

    private LossArgumentException ErrorAt(string message, int column)
        => new(LossErrorCode.InvalidExpression, message + Caret(_text, column));

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            int start = i;
            if (char.IsDigit(c) || (c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.')) i++;
                if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
                {
                    int save = i++;
                    if (i < text.Length && (text[i] == '+' || text[i] == '-')) i++;
                    if (i < text.Length && char.IsDigit(text[i])) { while (i < text.Length && char.IsDigit(text[i])) i++; }
                    else i = save;
                }
                string number = text[start..i];
                if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                {
                    throw new LossArgumentException(LossErrorCode.InvalidExpression, $"'{number}' at column {start + 1} is not a number" + Caret(text, start + 1));
                }
                tokens.Add(new("number", number, start + 1));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_' || text[i] == '.')) i++;
                tokens.Add(new("name", text[start..i], start + 1));
            }
            else if (c is '\'' or '"')
            {
                var sb = new StringBuilder();
                i++;
                while (i < text.Length && text[i] != c) sb.Append(text[i++]);
                if (i >= text.Length)
                {
                    throw new LossArgumentException(LossErrorCode.InvalidExpression, $"the string starting at column {start + 1} is not closed with {c}" + Caret(text, start + 1));
                }
                i++;
                tokens.Add(new("string", sb.ToString(), start + 1));
            }
            else
            {
                string two = i + 1 < text.Length ? text.Substring(i, 2) : "";
                if (two is "<=" or ">=" or "==" or "!=" or "**")
                {
                    tokens.Add(new("op", two, start + 1));
                    i += 2;
                }
                else if ("+-*/^(),=<>".Contains(c, StringComparison.Ordinal))
                {
                    tokens.Add(new("op", c.ToString(), start + 1));
                    i++;
                }
                else
                {
                    throw new LossArgumentException(LossErrorCode.InvalidExpression, $"unexpected character '{c}' at column {start + 1}" + Caret(text, start + 1));
                }
            }
        }
        tokens.Add(new("end", "", text.Length + 1));
        return tokens;
    }
}
