package io.segstore.restic;

import java.net.URI;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * The restic protocol's own errors as problem documents, like every other error of the service
 * (which {@code io.segstore.web.ProblemHandler} maps). restic only looks at the status.
 */
@RestControllerAdvice(assignableTypes = ResticController.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
class ResticProblemHandler {

    @ExceptionHandler(ResticException.class)
    ResponseEntity<ProblemDetail> restic(ResticException e) {
        ProblemDetail p = ProblemDetail.forStatusAndDetail(HttpStatus.valueOf(e.type().status()), e.getMessage());
        p.setType(URI.create(e.type().uri()));
        p.setTitle(e.type().title());
        ResponseEntity.BodyBuilder b = ResponseEntity.status(e.type().status()).contentType(MediaType.APPLICATION_PROBLEM_JSON);
        if (e.size() >= 0) {
            b.header(HttpHeaders.CONTENT_RANGE, "bytes */" + e.size());
        }
        return b.body(p);
    }
}
