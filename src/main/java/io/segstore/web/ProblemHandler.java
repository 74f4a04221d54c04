package io.segstore.web;

import io.segstore.engine.AppendOnlyException;
import io.segstore.engine.CheckNeededException;
import io.segstore.engine.InsufficientFreeSpaceException;
import io.segstore.engine.IntegrityException;
import io.segstore.engine.InvalidRepositoryException;
import io.segstore.engine.LockFailedException;
import io.segstore.engine.LockTimeoutException;
import io.segstore.engine.NonceReservationException;
import io.segstore.engine.ObjectNotFoundException;
import io.segstore.engine.ObjectTooLargeException;
import io.segstore.engine.ReadOnlyRepositoryException;
import io.segstore.engine.RepositoryAlreadyExistsException;
import io.segstore.engine.RepositoryClosedException;
import io.segstore.engine.RepositoryDoesNotExistException;
import io.segstore.engine.RepositoryException;
import io.segstore.engine.StorageQuotaExceededException;
import io.segstore.engine.TransactionDoomedException;
import io.segstore.engine.TransactionStateException;
import io.segstore.engine.WriterBusyException;
import io.segstore.service.ServiceException;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

/**
 * Every error, of the engine, the service or the framework, becomes an RFC 9457 problem
 * document here, with a stable type per kind of error (see {@link Problems}).
 */
@RestControllerAdvice
public class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final System.Logger LOG = System.getLogger(ProblemHandler.class.getName());

    @ExceptionHandler(ServiceException.class)
    ResponseEntity<ProblemDetail> service(ServiceException e) {
        Problems.Type type = switch (e.kind()) {
            case BAD_REPOSITORY_NAME -> Problems.BAD_REPOSITORY_NAME;
            case BAD_OBJECT_ID -> Problems.BAD_OBJECT_ID;
            case BAD_PARAMETER -> Problems.BAD_PARAMETER;
            case BAD_MARKER -> Problems.BAD_MARKER;
            case LENGTH_REQUIRED -> Problems.LENGTH_REQUIRED;
            case UPLOAD_INCOMPLETE -> Problems.UPLOAD_INCOMPLETE;
            case FORBIDDEN -> Problems.FORBIDDEN;
            case UNKNOWN_REPOSITORY -> Problems.REPOSITORY_NOT_FOUND;
            case REPOSITORY_EXISTS -> Problems.REPOSITORY_EXISTS;
            case REPOSITORY_UNAVAILABLE -> Problems.REPOSITORY_UNAVAILABLE;
            case UNKNOWN_TRANSACTION -> Problems.TRANSACTION_NOT_FOUND;
            case TRANSACTION_EXPIRED -> Problems.TRANSACTION_EXPIRED;
            case TRANSACTION_ENDED -> Problems.TRANSACTION_ENDED;
            case LOCKED -> Problems.LOCKED;
            case VERIFICATION_FAILED -> Problems.VERIFICATION_FAILED;
            case LISTING_EXPIRED -> Problems.LISTING_EXPIRED;
            case UNKNOWN_JOB -> Problems.JOB_NOT_FOUND;
            case TOO_MANY_JOBS -> Problems.TOO_MANY_JOBS;
            case TOO_MANY_REQUESTS -> Problems.TOO_MANY_REQUESTS;
        };
        return problem(type, e.getMessage(), e.retryAfterSeconds(), Map.of());
    }

    @ExceptionHandler(RepositoryException.class)
    ResponseEntity<ProblemDetail> engine(RepositoryException e) {
        Map<String, Object> extra = new LinkedHashMap<>();
        Problems.Type type;
        long retryAfter = 0;
        if (e instanceof ObjectNotFoundException) {
            type = Problems.OBJECT_NOT_FOUND;
        } else if (e instanceof ObjectTooLargeException) {
            type = Problems.OBJECT_TOO_LARGE;
        } else if (e instanceof AppendOnlyException) {
            type = Problems.APPEND_ONLY;
        } else if (e instanceof StorageQuotaExceededException q) {
            type = Problems.QUOTA_EXCEEDED;
            extra.put("quota", q.quota());
            extra.put("used", q.used());
        } else if (e instanceof InsufficientFreeSpaceException f) {
            type = Problems.INSUFFICIENT_STORAGE;
            extra.put("required", f.required());
            extra.put("available", f.available());
        } else if (e instanceof TransactionDoomedException) {
            type = Problems.TRANSACTION_DOOMED;
        } else if (e instanceof TransactionStateException) {
            type = Problems.TRANSACTION_ENDED;
        } else if (e instanceof WriterBusyException || e instanceof LockTimeoutException) {
            type = Problems.LOCKED;
            retryAfter = 5;
        } else if (e instanceof CheckNeededException) {
            type = Problems.CHECK_NEEDED;
        } else if (e instanceof IntegrityException) {
            type = Problems.INTEGRITY_ERROR;
            LOG.log(System.Logger.Level.ERROR, "integrity error: {0}", e.getMessage());
        } else if (e instanceof ReadOnlyRepositoryException) {
            type = Problems.READ_ONLY;
        } else if (e instanceof NonceReservationException) {
            type = Problems.NONCE_CONFLICT;
        } else if (e instanceof RepositoryDoesNotExistException) {
            type = Problems.REPOSITORY_NOT_FOUND;
        } else if (e instanceof RepositoryAlreadyExistsException) {
            type = Problems.REPOSITORY_EXISTS;
        } else if (e instanceof RepositoryClosedException || e instanceof InvalidRepositoryException || e instanceof LockFailedException) {
            type = Problems.REPOSITORY_UNAVAILABLE;
            retryAfter = 30;
        } else {
            type = Problems.STORAGE_ERROR;
            LOG.log(System.Logger.Level.ERROR, "storage error", e);
        }
        return problem(type, e.getMessage(), retryAfter, extra);
    }

    @ExceptionHandler(IllegalArgumentException.class)
    ResponseEntity<ProblemDetail> badArgument(IllegalArgumentException e) {
        return problem(Problems.BAD_PARAMETER, e.getMessage(), 0, Map.of());
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) throws Exception {
        if (e instanceof ErrorResponse) {
            throw e; // the framework's own errors: handled below
        }
        LOG.log(System.Logger.Level.ERROR, "unexpected error", e);
        return problem(Problems.INTERNAL_ERROR, "An unexpected error occurred; it was logged.", 0, Map.of());
    }

    /** The framework's errors (unknown path, wrong method, unreadable body...) get our types too. */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers, HttpStatusCode status,
                                                             WebRequest request) {
        ProblemDetail detail = body instanceof ProblemDetail p ? p : ProblemDetail.forStatus(status);
        Problems.Type type = Problems.forFrameworkStatus(status.value());
        detail.setType(URI.create(type.uri()));
        detail.setTitle(type.title());
        if (detail.getDetail() == null) {
            detail.setDetail(ex.getMessage());
        }
        HttpHeaders h = new HttpHeaders();
        h.addAll(headers);
        h.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        return ResponseEntity.status(status).headers(h).body(detail);
    }

    static ResponseEntity<ProblemDetail> problem(Problems.Type type, String detail, long retryAfter, Map<String, Object> extra) {
        ProblemDetail p = ProblemDetail.forStatusAndDetail(HttpStatus.valueOf(type.status()), detail);
        p.setType(URI.create(type.uri()));
        p.setTitle(type.title());
        extra.forEach(p::setProperty);
        ResponseEntity.BodyBuilder b = ResponseEntity.status(type.status()).contentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (retryAfter > 0) {
            b.header(HttpHeaders.RETRY_AFTER, Long.toString(retryAfter));
        }
        return b.body(p);
    }
}
