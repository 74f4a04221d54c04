package io.segstore.web;

import io.segstore.security.Action;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The action a handler performs on the repository named by its {@code {repo}} path variable;
 * {@link AccessInterceptor} checks it before the handler runs. Every handler of Segstore's
 * controllers must carry one (the service refuses to start otherwise), so none is left open by
 * mistake. {@link #perRepository()} false marks a handler that only needs an authenticated
 * caller and filters what it shows itself (the repository list).
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
public @interface Requires {
    Action value();

    boolean perRepository() default true;
}
