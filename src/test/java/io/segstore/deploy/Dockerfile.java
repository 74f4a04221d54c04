package io.segstore.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The project's Dockerfile, parsed as Docker's builder reads it: instructions (continuation lines
 * joined, comments dropped), their --flags, and the stages that FROM opens. There is no Docker
 * engine in CI, so the tests check the image's definition through this.
 */
final class Dockerfile {

    static final Path PATH = Path.of("Dockerfile");

    /** One instruction: its keyword (upper case), its --flags, and the rest of its text. */
    record Instruction(String keyword, Map<String, String> flags, String arguments, int line) {

        /** The arguments in exec form (a JSON array of strings), or empty in shell form. */
        Optional<List<String>> execForm() {
            String text = arguments.strip();
            if (!text.startsWith("[")) {
                return Optional.empty();
            }
            // A JSON array of strings is also YAML: SnakeYAML (on the class path with Spring Boot) reads it.
            Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(text);
            if (!(parsed instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
                throw new IllegalStateException("line " + line + ": not a JSON array of strings: " + text);
            }
            return Optional.of(list.stream().map(String.class::cast).toList());
        }

        /** The words of a shell-form argument, split on white space (enough for the checks here). */
        List<String> words() {
            return List.of(arguments.strip().split("\\s+"));
        }
    }

    /** A build stage: FROM's image and name, and the instructions up to the next FROM. */
    record Stage(String image, String name, List<Instruction> instructions) {

        List<Instruction> all(String keyword) {
            return instructions.stream().filter(i -> i.keyword().equals(keyword)).toList();
        }

        /** The one instruction of this keyword (ENTRYPOINT, USER, ... take effect once: the last wins). */
        Optional<Instruction> last(String keyword) {
            List<Instruction> found = all(keyword);
            return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1));
        }

        /** ENV of this stage, in order, later assignments winning. */
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            for (Instruction i : all("ENV")) {
                env.putAll(assignments(i.arguments()));
            }
            return env;
        }
    }

    final List<Instruction> preamble;
    final List<Stage> stages;
    final Map<String, String> globalArgs;

    private Dockerfile(List<Instruction> preamble, List<Stage> stages, Map<String, String> globalArgs) {
        this.preamble = preamble;
        this.stages = stages;
        this.globalArgs = globalArgs;
    }

    static Dockerfile read() throws IOException {
        return parse(Files.readString(PATH, StandardCharsets.UTF_8));
    }

    Stage finalStage() {
        return stages.get(stages.size() - 1);
    }

    Optional<Stage> stage(String name) {
        return stages.stream().filter(s -> name.equals(s.name())).findFirst();
    }

    /** FROM's image with the global ARGs' defaults substituted. */
    String resolve(String text) {
        String result = text;
        for (Map.Entry<String, String> arg : globalArgs.entrySet()) {
            result = result.replace("${" + arg.getKey() + "}", arg.getValue()).replace("$" + arg.getKey(), arg.getValue());
        }
        return result;
    }

    static Dockerfile parse(String text) {
        List<Instruction> instructions = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        StringBuilder current = null;
        int start = 0;
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].stripTrailing();
            String trimmed = line.strip();
            if (trimmed.startsWith("#")) {
                continue; // comments (and parser directives) never continue an instruction
            }
            if (current == null) {
                if (trimmed.isEmpty()) {
                    continue;
                }
                current = new StringBuilder();
                start = n + 1;
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            current.append(line);
            instructions.add(instruction(current.toString().strip(), start));
            current = null;
        }
        if (current != null) {
            throw new IllegalStateException("the last instruction (line " + start + ") ends in a line continuation");
        }

        List<Instruction> preamble = new ArrayList<>();
        List<Stage> stages = new ArrayList<>();
        Map<String, String> globalArgs = new LinkedHashMap<>();
        List<Instruction> body = null;
        for (Instruction i : instructions) {
            if (i.keyword().equals("FROM")) {
                List<String> words = i.words();
                String name = words.size() >= 3 && words.get(1).equalsIgnoreCase("AS") ? words.get(2) : null;
                body = new ArrayList<>();
                stages.add(new Stage(words.get(0), name, body));
            } else if (body == null) {
                if (!i.keyword().equals("ARG")) {
                    throw new IllegalStateException("line " + i.line() + ": only ARG may come before the first FROM");
                }
                preamble.add(i);
                globalArgs.putAll(assignments(i.arguments()));
            } else {
                body.add(i);
            }
        }
        return new Dockerfile(preamble, stages, globalArgs);
    }

    private static Instruction instruction(String text, int line) {
        int space = text.indexOf(' ');
        String keyword = (space < 0 ? text : text.substring(0, space)).toUpperCase(Locale.ROOT);
        String rest = space < 0 ? "" : text.substring(space + 1).strip();
        Map<String, String> flags = new LinkedHashMap<>();
        while (rest.startsWith("--")) {
            int end = rest.indexOf(' ');
            String flag = end < 0 ? rest : rest.substring(0, end);
            int eq = flag.indexOf('=');
            flags.put(eq < 0 ? flag.substring(2) : flag.substring(2, eq), eq < 0 ? "" : flag.substring(eq + 1));
            rest = end < 0 ? "" : rest.substring(end + 1).strip();
        }
        if (keyword.equals("HEALTHCHECK") && rest.toUpperCase(Locale.ROOT).startsWith("CMD ")) {
            rest = rest.substring(4).strip();
        }
        return new Instruction(keyword, flags, rest, line);
    }

    /** NAME=value pairs (values optionally in double quotes) of ENV, ARG and LABEL. */
    static Map<String, String> assignments(String text) {
        Map<String, String> result = new LinkedHashMap<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) {
                i++;
            }
            if (i >= n) {
                break;
            }
            int eq = text.indexOf('=', i);
            int space = indexOfSpace(text, i);
            if (eq < 0 || (space >= 0 && space < eq)) {
                // "ARG NAME" without a default
                String name = space < 0 ? text.substring(i) : text.substring(i, space);
                result.put(name, "");
                i = space < 0 ? n : space;
                continue;
            }
            String name = text.substring(i, eq);
            i = eq + 1;
            StringBuilder value = new StringBuilder();
            if (i < n && text.charAt(i) == '"') {
                i++;
                while (i < n && text.charAt(i) != '"') {
                    if (text.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    value.append(text.charAt(i++));
                }
                i++;
            } else {
                while (i < n && !Character.isWhitespace(text.charAt(i))) {
                    value.append(text.charAt(i++));
                }
            }
            result.put(name, value.toString());
        }
        return result;
    }

    private static int indexOfSpace(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            if (Character.isWhitespace(text.charAt(i))) {
                return i;
            }
        }
        return -1;
    }
}
