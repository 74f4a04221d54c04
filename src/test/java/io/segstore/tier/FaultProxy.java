package io.segstore.tier;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A small HTTP proxy between the SDK and s3proxy that injects faults: a 500 answer, a connection
 * dropped in the middle of a request body, or an answer held back past the client's attempt
 * timeout (the request itself reached the store). Faults are queued and each is used once by the
 * first request it matches; every request is recorded.
 */
public final class FaultProxy implements AutoCloseable {

    /** What a queued fault does. */
    public enum Kind { ERROR_500, DROP_MID_BODY, ANSWER_LATE, HOLD }

    /** A request as the proxy saw it. */
    public record Seen(String method, String path) {
    }

    private record Fault(Kind kind, Predicate<Seen> matches, long lateMillis, Hold hold) {
    }

    /**
     * A request stopped in the proxy with its whole body received: the test learns that it is
     * there, then lets it go on to the store or drops it (as if the sender died with it in flight).
     */
    public static final class Hold {
        private final java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CompletableFuture<Boolean> decision = new java.util.concurrent.CompletableFuture<>();

        /** Waits until the matching request is held; false when none came in time. */
        public boolean awaitHeld(java.time.Duration timeout) throws InterruptedException {
            return arrived.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        }

        /** Lets the held request reach the store ({@code true}) or drops it. */
        public void release(boolean forward) {
            decision.complete(forward);
        }
    }

    private final ServerSocket server;
    private final URI upstream;
    private final ConcurrentLinkedQueue<Fault> faults = new ConcurrentLinkedQueue<>();
    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final AtomicInteger injected = new AtomicInteger();
    private volatile boolean failAll;
    private final Thread acceptor;

    public FaultProxy(URI upstream) throws IOException {
        this.upstream = upstream;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "fault-proxy");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    /** Queues one fault for the first request matching {@code matches}. */
    public FaultProxy inject(Kind kind, Predicate<Seen> matches) {
        faults.add(new Fault(kind, matches, 2500, null));
        return this;
    }

    /** Holds the first request matching {@code matches} until the returned hold is released. */
    public Hold hold(Predicate<Seen> matches) {
        Hold h = new Hold();
        faults.add(new Fault(Kind.HOLD, matches, 0, h));
        return h;
    }

    /** Every request answers 500 until switched off (an outage longer than the SDK's retries). */
    public void failAll(boolean on) {
        failAll = on;
    }

    public int injected() {
        return injected.get();
    }

    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    public void clearSeen() {
        seen.clear();
    }

    public static Predicate<Seen> method(String method, String pathContains) {
        return s -> s.method().equals(method) && s.path().contains(pathContains);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Thread t = new Thread(() -> serve(client), "fault-proxy-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return;
                }
                String[] lines = head.split("\r\n");
                String[] requestLine = lines[0].split(" ");
                Seen s = new Seen(requestLine[0], requestLine[1]);
                seen.add(s);
                long length = 0;
                boolean chunked = false;
                for (String l : lines) {
                    String lower = l.toLowerCase(Locale.ROOT);
                    if (lower.startsWith("content-length:")) {
                        length = Long.parseLong(l.substring(l.indexOf(':') + 1).strip());
                    } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                        chunked = true;
                    }
                }
                if (head.toLowerCase(Locale.ROOT).contains("\r\nexpect: 100-continue")) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                Fault fault = take(s);
                if (fault != null && fault.kind() == Kind.DROP_MID_BODY) {
                    in.readNBytes((int) Math.min(length / 2, 1 << 20));
                    return; // the connection breaks with the body half sent
                }
                byte[] body = chunked ? readChunked(in) : in.readNBytes((int) length);
                if (failAll || (fault != null && fault.kind() == Kind.ERROR_500)) {
                    byte[] xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code>"
                            + "<Message>injected</Message></Error>").getBytes(StandardCharsets.UTF_8);
                    out.write(("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: " + xml.length
                            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write(xml);
                    out.flush();
                    continue;
                }
                if (fault != null && fault.kind() == Kind.HOLD) {
                    fault.hold().arrived.countDown();
                    if (!fault.hold().decision.get()) {
                        return; // dropped: the store never sees it
                    }
                }
                byte[] answer = forward(head, chunked, body);
                if (fault != null && fault.kind() == Kind.ANSWER_LATE) {
                    Thread.sleep(fault.lateMillis()); // the store did it; the client gives up waiting
                }
                out.write(answer);
                out.flush();
                return; // the upstream answer carried Connection: close
            }
        } catch (IOException | InterruptedException | java.util.concurrent.ExecutionException | RuntimeException e) {
            // the client went away
        }
    }

    private Fault take(Seen s) {
        for (Fault f : faults) {
            if (f.matches().test(s) && faults.remove(f)) {
                injected.incrementAndGet();
                return f;
            }
        }
        return null;
    }

    private byte[] forward(String head, boolean chunked, byte[] body) throws IOException {
        try (Socket up = new Socket(upstream.getHost(), upstream.getPort())) {
            StringBuilder h = new StringBuilder();
            for (String l : head.split("\r\n")) {
                String lower = l.toLowerCase(Locale.ROOT);
                if (lower.startsWith("connection:") || lower.startsWith("transfer-encoding:") || lower.startsWith("content-length:")
                        || lower.startsWith("expect:")) {
                    continue;
                }
                h.append(l).append("\r\n");
            }
            h.append("Content-Length: ").append(body.length).append("\r\n");
            h.append("Connection: close\r\n\r\n");
            OutputStream o = up.getOutputStream();
            o.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
            o.write(body);
            o.flush();
            return up.getInputStream().readAllBytes();
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int state = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                return null;
            }
            b.write(c);
            state = switch (state) {
                case 0 -> c == '\r' ? 1 : 0;
                case 1 -> c == '\n' ? 2 : (c == '\r' ? 1 : 0);
                case 2 -> c == '\r' ? 3 : 0;
                case 3 -> c == '\n' ? 4 : 0;
                default -> 0;
            };
            if (state == 4) {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.substring(0, s.length() - 4);
            }
        }
    }

    private static byte[] readChunked(InputStream in) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true) {
            String line = readLine(in);
            int size = Integer.parseInt(line.split(";")[0].strip(), 16);
            if (size == 0) {
                while (!readLine(in).isEmpty()) {
                    // trailers
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            readLine(in);
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    static List<Seen> deletes(List<Seen> seen) {
        List<Seen> out = new ArrayList<>();
        for (Seen s : seen) {
            if (s.method().equals("DELETE")) {
                out.add(s);
            }
        }
        return out;
    }
}
